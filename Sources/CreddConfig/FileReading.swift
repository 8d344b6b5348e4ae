import CreddCore
import CreddPlatform
import Glibc

/// What reading a file found.
public enum FileReadResult: Sendable, Hashable {
    case contents([UInt8])
    /// Nothing at the path (or a dangling symlink): a normal case for optional files.
    case missing
}

/// A file that exists but could not be read, or is not a regular file.
public struct FileReadError: Error, Sendable, Hashable, CustomStringConvertible {
    public let path: String
    /// The system's explanation ("Permission denied"), or what is there instead of a file
    /// ("is a FIFO, not a regular file").
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
    /// The names of the entries of directory `path`; empty when there is no such directory.
    func entries(ofDirectory path: String) -> [String]
}

/// Reads from the real file system.
public struct SystemFileReader: FileReading {
    public init() {}

    /// Opens and reads the whole file; a missing file or directory component is `.missing`.
    /// Anything but a regular file (a FIFO, a directory, a device) is refused without blocking.
    public func read(_ path: String) throws(FileReadError) -> FileReadResult {
        let descriptor: Int32
        switch openRegularFile(path) {
        case let .success(opened):
            descriptor = opened
        case let .failure(.system(code)) where code == ENOENT || code == ENOTDIR:
            return .missing
        case let .failure(failure):
            throw FileReadError(path: path, reason: failure.reason)
        }
        defer { close(descriptor) }
        switch readToEnd(descriptor) {
        case let .success(bytes): return .contents(bytes)
        case let .failure(failure): throw FileReadError(path: path, reason: Self.describe(failure.errno))
        }
    }

    /// The names in `path`, `.` and `..` left out; empty when it cannot be listed.
    public func entries(ofDirectory path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
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

    /// The names of stored files directly inside `path`.
    public func entries(ofDirectory path: String) -> [String] {
        let prefix = path.hasSuffix("/") ? path : path + "/"
        return files.keys.filter { $0.hasPrefix(prefix) && !$0.dropFirst(prefix.count).contains("/") }.map { String($0.dropFirst(prefix.count)) }
    }
}
