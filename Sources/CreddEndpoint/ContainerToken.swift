import CreddCore
import FoundationEssentials
import Glibc

/// The secret that container-API clients present as `Authorization`, and its file.
///
/// The daemon keeps the token in the runtime directory across restarts (a new one only when none
/// is there), where `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` points; SDKs re-read that file on
/// every fetch.
public enum ContainerToken {
    /// A new random token (32 bytes, base64url): safe in a header and in a file without quoting.
    public static func generate() -> Secret {
        Secret(RandomToken.make())
    }

    /// Writes `token` to `path` atomically: mode 0600, no trailing newline (botocore and the Go SDK
    /// reject a token containing one), in a directory created with mode 0700 if missing.
    ///
    /// An existing directory must be a real directory owned by this user; its mode is tightened to 0700.
    public static func write(_ token: Secret, to path: String) throws(EndpointError) {
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        try prepareDirectory(directory)
        let temporary = try writeTemporaryFile(token, besides: path, in: directory.isEmpty ? "." : directory)
        guard rename(temporary, path) == 0 else {
            let error = errno
            unlink(temporary)
            throw .tokenFile(path: path, operation: "rename a temporary file over", errno: error)
        }
        syncDirectory(directory.isEmpty ? "." : directory)
    }

    private static func prepareDirectory(_ directory: String) throws(EndpointError) {
        if mkdir(directory, 0o700) == 0 { return }
        let mkdirError = errno
        guard mkdirError == EEXIST else {
            throw .tokenFile(path: directory, operation: "create the directory for", errno: mkdirError)
        }
        var status = stat()
        guard lstat(directory, &status) == 0 else {
            throw .tokenFile(path: directory, operation: "inspect the directory for", errno: errno)
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw .tokenDirectoryInsecure(path: directory, reason: "it is not a directory (a symlink?)")
        }
        guard status.st_uid == geteuid() else {
            throw .tokenDirectoryInsecure(path: directory, reason: "it belongs to uid \(status.st_uid), not to you")
        }
        if status.st_mode & 0o077 != 0, chmod(directory, 0o700) != 0 {
            throw .tokenFile(path: directory, operation: "restrict the permissions of the directory for", errno: errno)
        }
    }

    /// Creates, fills and syncs a 0600 temporary file next to `path`; returns its path.
    private static func writeTemporaryFile(_ token: Secret, besides path: String, in directory: String) throws(EndpointError) -> String {
        var template = Array((directory + "/.token.XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard descriptor >= 0 else {
            throw .tokenFile(path: path, operation: "create a temporary file for", errno: errno)
        }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { close(descriptor) }
        do throws(EndpointError) {
            guard fchmod(descriptor, 0o600) == 0 else {
                throw .tokenFile(path: path, operation: "set mode 0600 on a temporary file for", errno: errno)
            }
            let bytes = Array(token.revealed.utf8)
            var written = 0
            while written < bytes.count {
                let result = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
                if result < 0 {
                    if errno == EINTR { continue }
                    throw .tokenFile(path: path, operation: "write", errno: errno)
                }
                written += result
            }
            guard fsync(descriptor) == 0 else {
                throw .tokenFile(path: path, operation: "flush", errno: errno)
            }
        } catch {
            unlink(temporary)
            throw error
        }
        return temporary
    }

    /// Makes the rename durable; a failure here loses nothing, so it is not reported.
    private static func syncDirectory(_ directory: String) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
