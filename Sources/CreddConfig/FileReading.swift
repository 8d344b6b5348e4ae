import CreddCore
import CreddPlatform
import Glibc

/// What reading a file found.
public enum FileReadResult: Sendable, Hashable {
    case contents([UInt8])
    /// Nothing at the path (or a dangling symlink): a normal case for optional files.
    case missing
}

/// A file that exists but could not be read; `reason` is the system's explanation.
public struct FileReadError: Error, Sendable, Hashable, CustomStringConvertible {
    public let path: String
    /// The system's explanation, e.g. "Permission denied".
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Reads whole files. Injected so configuration loading is tested with in-memory files.
public protocol FileReading: Sendable {
    /// The bytes at `path`, or `.missing`; throws when something is there but cannot be read.
    func read(_ path: String) throws(FileReadError) -> FileReadResult
}

/// Reads from the real file system.
public struct SystemFileReader: FileReading {
    public init() {}

    /// Opens and reads the whole file; a missing file or directory component is `.missing`.
    public func read(_ path: String) throws(FileReadError) -> FileReadResult {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return .missing }
            throw FileReadError(path: path, reason: Self.describe(code))
        }
        defer { close(descriptor) }
        var status = stat()
        if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            throw FileReadError(path: path, reason: "is a directory")
        }
        switch readToEnd(descriptor) {
        case let .success(bytes): return .contents(bytes)
        case let .failure(failure): throw FileReadError(path: path, reason: Self.describe(failure.errno))
        }
    }

    private static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

extension FileReading where Self == SystemFileReader {
    /// The real file system.
    public static var system: SystemFileReader { SystemFileReader() }
}

/// Files held in memory, for tests and for `credd check` on a config that is not on disk.
public struct InMemoryFileReader: FileReading {
    /// Path to contents.
    public var files: [String: [UInt8]]
    /// Paths that exist but fail to read, with the reason to report.
    public var unreadable: [String: String]

    public init(files: [String: String] = [:], unreadable: [String: String] = [:]) {
        self.files = files.mapValues { Array($0.utf8) }
        self.unreadable = unreadable
    }

    /// The stored bytes, `.missing`, or the configured failure.
    public func read(_ path: String) throws(FileReadError) -> FileReadResult {
        if let reason = unreadable[path] { throw FileReadError(path: path, reason: reason) }
        return files[path].map(FileReadResult.contents) ?? .missing
    }
}
