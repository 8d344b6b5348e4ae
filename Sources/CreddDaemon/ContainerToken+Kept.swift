import CreddCore
import CreddEndpoint
import CreddPlatform
import Glibc

extension ContainerToken {
    /// The token an earlier run left at `path`, when it is safe to keep: a regular file of this
    /// user's, readable by nobody else, holding one token and nothing more. The token is kept
    /// across restarts (docs/design.md): a client that read the file just before an on-demand start
    /// must not be refused by the daemon it started. `credd env` reads it the same way.
    public static func kept(at path: String) -> Secret? {
        // O_NOFOLLOW and O_NONBLOCK: a symlink or a FIFO planted at the path is refused, never followed or waited on.
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == getuid(), info.st_mode & 0o077 == 0,
            info.st_size <= maximumKeptLength, case .success(let bytes) = readToEnd(descriptor)
        else { return nil }
        let token = String(decoding: bytes, as: UTF8.self)
        guard token.utf8.count >= minimumKeptLength, token.utf8.allSatisfy(isTokenByte) else { return nil }
        return Secret(token)
    }

    /// A generated token is 43 characters of base64url; a much shorter one was not made by credd.
    private static let minimumKeptLength = 32
    private static let maximumKeptLength = 256

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}
