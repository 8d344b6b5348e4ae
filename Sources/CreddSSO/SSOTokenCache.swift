import CreddCore
import CreddPlatform
import Crypto
import FoundationEssentials
import Glibc

/// The token cache shared with the AWS CLI v2 and botocore: `~/.aws/sso/cache/<sha1 hex>.json`,
/// named by the sso-session's name (legacy profiles: by the start URL), mode 0600 in a 0700
/// directory, replaced atomically so that a reader never sees half a file.
public struct SSOTokenCache: Sendable {
    /// The cache directory, normally `~/.aws/sso/cache`.
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// `home/.aws/sso/cache`.
    public init(home: String) {
        self.init(directory: home + "/.aws/sso/cache")
    }

    /// The cache key botocore's `SSOTokenLoader` computes: SHA-1 of the session name, or of the
    /// start URL for a legacy profile without `sso_session`.
    public static func key(sessionName: String?, startURL: String) -> String {
        Insecure.SHA1.hash(data: Array((sessionName ?? startURL).utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    public func path(sessionName: String?, startURL: String) -> String {
        "\(directory)/\(Self.key(sessionName: sessionName, startURL: startURL)).json"
    }

    /// The cached token, or `nil` when there is no file.
    public func load(sessionName: String?, startURL: String) throws(SSOError) -> SSOToken? {
        let file = path(sessionName: sessionName, startURL: startURL)
        guard let bytes = try Self.read(file) else { return nil }
        return try SSOTokenCoding.decode(bytes, file: file)
    }

    /// Replaces the session's cache file with `token` (temp file, fsync, rename, fsync of the directory).
    public func store(_ token: SSOToken, sessionName: String?) throws(SSOError) {
        try storeFile(SSOTokenCoding.encode(token), at: path(sessionName: sessionName, startURL: token.startURL))
    }

    /// Replaces `file` in the cache directory with `bytes`.
    func storeFile(_ bytes: [UInt8], at file: String) throws(SSOError) {
        try ensureDirectory(file: file)
        try Self.writeAtomically(bytes, to: file, directory: directory)
    }

    /// Creates the directory and any missing parents with mode 0700: it holds bearer tokens. An
    /// existing cache directory must be the user's and writable by no one else: whoever can
    /// write in it can swap the tokens credd keeps there.
    private func ensureDirectory(file: String) throws(SSOError) {
        var prefix = ""
        for component in directory.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw Self.systemError(.cacheWriteFailed, file: file, errno, "cannot create the directory \(prefix)")
            }
        }
        var status = stat()
        guard stat(directory, &status) == 0 else { throw Self.systemError(.cacheWriteFailed, file: file, errno, "cannot inspect \(directory)") }
        if let problem = Self.untrusted(status, kind: "the directory") {
            throw SSOError(
                kind: .cacheWriteFailed, operation: file,
                message: "\(directory): \(problem); credd writes no token there: chown or chmod it, or remove it")
        }
    }

    /// Why a cache file or directory with `status` is not to be trusted: another user's, or
    /// writable by group or others (who could replace what it holds). `nil` when it is fine.
    static func untrusted(_ status: stat, kind: String) -> String? {
        let user = geteuid()
        if status.st_uid != user { return "\(kind) belongs to uid \(status.st_uid), not to you (uid \(user))" }
        if status.st_mode & 0o022 != 0 { return "\(kind) is writable by other users (mode \(String(status.st_mode & 0o777, radix: 8)))" }
        return nil
    }

    /// The file's bytes, or `nil` when there is none. Only a regular file of the user's that no
    /// one else can write is read: a symlink or a FIFO planted at the path is refused, never
    /// followed or waited on, and so is another user's token.
    static func read(_ file: String) throws(SSOError) -> [UInt8]? {
        let descriptor: Int32
        switch openRegularFile(file, flags: O_RDONLY | O_NOFOLLOW) {
        case .success(let opened): descriptor = opened
        case .failure(.system(let code)) where code == ENOENT: return nil
        case .failure(.system(let code)) where code == ELOOP:
            throw SSOError(
                kind: .cacheUnreadable, operation: file, message: "is a symlink; credd reads no token through one: remove it and sign in again")
        case .failure(.system(let code)): throw systemError(.cacheUnreadable, file: file, code, "cannot open the token cache")
        case .failure(let failure): throw SSOError(kind: .cacheUnreadable, operation: file, message: failure.reason)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw systemError(.cacheUnreadable, file: file, errno, "cannot inspect the token cache") }
        if let problem = untrusted(status, kind: "the file") {
            throw SSOError(kind: .cacheUnreadable, operation: file, message: "\(problem); credd trusts no token in it: remove it and sign in again")
        }
        // A token file is a few KB; anything this large is not one.
        guard status.st_size <= 1 << 20 else {
            throw SSOError(kind: .cacheUnreadable, operation: file, message: "the file is over 1 MiB, not a token cache")
        }
        switch readToEnd(descriptor) {
        case .success(let bytes): return bytes
        case .failure(let failure): throw systemError(.cacheUnreadable, file: file, failure.errno, "cannot read the token cache")
        }
    }

    /// Temp file with an unpredictable name beside the target (`O_EXCL`, 0600), write, fsync,
    /// rename, fsync the directory. On failure the temp file is removed and the target untouched.
    private static func writeAtomically(_ bytes: [UInt8], to file: String, directory: String) throws(SSOError) {
        let temporary = "\(directory)/.credd-\(String(UInt64.random(in: 0...UInt64.max), radix: 16)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if descriptor < 0 { throw systemError(.cacheWriteFailed, file: file, errno, "cannot create a temporary file in \(directory)") }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        var failure: SSOError?
        if fchmod(descriptor, 0o600) != 0 { failure = systemError(.cacheWriteFailed, file: file, errno, "cannot set mode 0600") }
        var offset = 0
        while failure == nil, offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress?.advanced(by: offset), bytes.count - offset) }
            if written < 0, errno != EINTR { failure = systemError(.cacheWriteFailed, file: file, errno, "cannot write the new file") }
            offset += max(written, 0)
        }
        if failure == nil, fsync(descriptor) != 0 { failure = systemError(.cacheWriteFailed, file: file, errno, "cannot flush the new file") }
        close(descriptor)
        if let failure { throw failure }
        if rename(temporary, file) != 0 { throw systemError(.cacheWriteFailed, file: file, errno, "cannot replace the file") }
        renamed = true
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    private static func systemError(_ kind: SSOError.Kind, file: String, _ code: Int32, _ message: String) -> SSOError {
        SSOError(kind: kind, operation: file, message: "\(message): \(String(cString: strerror(code)))")
    }
}

/// The cache file's JSON, as botocore's `_sso_json_dumps` writes it.
enum SSOTokenCoding {
    static func decode(_ bytes: [UInt8], file: String) throws(SSOError) -> SSOToken {
        let object: [String: JSONValue]
        do {
            object = try JSONDecoder().decode([String: JSONValue].self, from: Data(bytes))
        } catch {
            throw SSOError(kind: .cacheUnreadable, operation: file, message: "the file is not a JSON object")
        }
        func string(_ key: String) -> String? { object[key]?.stringValue }
        func date(_ key: String) throws(SSOError) -> Date? {
            guard let text = string(key) else { return nil }
            guard let date = AWSTimestamp.parse(text) else {
                throw SSOError(kind: .cacheUnreadable, operation: file, message: "\(key) is not a timestamp")
            }
            return date
        }
        guard let accessToken = string("accessToken"), let expiresAt = try date("expiresAt") else {
            // botocore's SSOTokenLoader refuses the same files.
            throw SSOError(kind: .cacheUnreadable, operation: file, message: "accessToken or expiresAt is missing")
        }
        return SSOToken(
            startURL: string("startUrl") ?? "", region: string("region") ?? "", accessToken: Secret(accessToken),
            expiresAt: expiresAt, clientId: string("clientId"), clientSecret: string("clientSecret").map(Secret.init),
            registrationExpiresAt: try date("registrationExpiresAt"), refreshToken: string("refreshToken").map(Secret.init),
            otherFields: object.filter { !knownKeys.contains($0.key) })
    }

    static func encode(_ token: SSOToken) -> [UInt8] {
        var object = token.otherFields
        object["startUrl"] = .string(token.startURL)
        object["region"] = .string(token.region)
        object["accessToken"] = .string(token.accessToken.revealed)
        object["expiresAt"] = .string(AWSTimestamp.format(token.expiresAt))
        if let clientId = token.clientId { object["clientId"] = .string(clientId) }
        if let clientSecret = token.clientSecret { object["clientSecret"] = .string(clientSecret.revealed) }
        if let registrationExpiresAt = token.registrationExpiresAt {
            object["registrationExpiresAt"] = .string(AWSTimestamp.format(registrationExpiresAt))
        }
        if let refreshToken = token.refreshToken { object["refreshToken"] = .string(refreshToken.revealed) }
        return encodeObject(object)
    }

    static func encodeObject(_ object: [String: JSONValue]) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a dictionary of JSON values cannot fail.
        return (try? Array(encoder.encode(object))) ?? Array("{}".utf8)
    }

    static let knownKeys: Set<String> = [
        "startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret", "registrationExpiresAt", "refreshToken",
    ]
}
