import Foundation
import Glibc

/// A private scratch directory for one test, removed when the test is done with it.
public final class TemporaryDirectory: Sendable {
    public let path: String

    /// Makes `parent/prefix-XXXXXX` (mode 0700). Pass a short `parent` such as `/tmp` where
    /// AF_UNIX socket paths inside must fit in `sun_path`.
    public init(prefix: String = "credd-test", in parent: String = NSTemporaryDirectory()) throws {
        let base = parent.hasSuffix("/") ? String(parent.dropLast()) : parent
        var bytes = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&bytes) else { throw TestSupportError("mkdtemp in \(base) failed: errno \(errno)") }
        self.path = String(cString: made)
    }

    deinit { remove() }

    public var url: URL { URL(fileURLWithPath: path) }

    public func file(_ relative: String) -> String { path + "/" + relative }

    /// Writes `contents` to `relative`, creating parent directories. `mode` nil leaves the
    /// permissions the process umask gives.
    @discardableResult
    public func write(_ relative: String, _ contents: String, mode: Int? = 0o600) throws -> String {
        let target = file(relative)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // O_CLOEXEC: a process another test spawns meanwhile must not inherit the write end, or
        // executing this file (a test script) fails with ETXTBSY.
        let descriptor = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw TestSupportError("open \(target) failed: errno \(errno)") }
        defer { close(descriptor) }
        var remaining = Array(contents.utf8)[...]
        while !remaining.isEmpty {
            let written = remaining.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw TestSupportError("write \(target) failed: errno \(errno)") }
            remaining = remaining.dropFirst(written)
        }
        if let mode, fchmod(descriptor, mode_t(mode)) != 0 {
            throw TestSupportError("chmod \(target) failed: errno \(errno)")
        }
        return target
    }

    /// The file's bytes as text; invalid UTF-8 is replaced rather than thrown on.
    public func read(_ relative: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: file(relative))), as: UTF8.self)
    }

    /// The names in the directory, sorted.
    public func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    /// Removes the directory now (also done on deinit); a test that pins its lifetime with
    /// `defer { directory.remove() }` cannot lose it early.
    public func remove() {
        // Restore write permission first in case a test made the directory read-only.
        chmod(path, 0o700)
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs `body` with a fresh directory, removed when `body` returns.
    public static func with<Result>(
        prefix: String = "credd-test", in parent: String = NSTemporaryDirectory(), _ body: (URL) throws -> Result
    ) throws -> Result {
        let directory = try TemporaryDirectory(prefix: prefix, in: parent)
        defer { directory.remove() }
        return try body(directory.url)
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
