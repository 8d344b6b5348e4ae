import Glibc

/// Gives back the pages of program code that the process has mapped in, keeping the code itself.
///
/// After a renewal pass, most of the code that ran (start-up, the STS client, TLS, the file
/// writer) will not run again for tens of minutes, yet its pages stay mapped and count in the
/// resident set until memory runs short. Unmapping them (`MADV_DONTNEED`) is what the kernel's
/// reclaim would do: the pages are clean copies of files, so the next call into the code faults
/// them back from the page cache (or the file), unchanged.
///
/// Only mappings that are executable, private, file-backed, not writable and without private
/// copies (`Anonymous: 0 kB`) qualify: dropping a private copy (relocated data, a patched page)
/// would lose its contents.
public enum ResidentCode {
    /// A mapping of code whose pages can be dropped and faulted back unchanged.
    public struct Mapping: Equatable, Sendable {
        public let addresses: Range<UInt>
        public let residentKiB: Int
        public let path: String
    }

    /// What one ``release()`` did.
    public struct Release: Equatable, Sendable {
        /// The resident code, in KiB, that was unmapped.
        public let releasedKiB: Int
        /// Mappings the kernel refused (`madvise` failed), which stay as they were.
        public let failedMappings: Int
    }

    /// Unmaps the resident pages of every qualifying mapping in `/proc/self/smaps`.
    /// - Returns: nil when `/proc/self/smaps` cannot be read (no procfs).
    public static func release() -> Release? {
        guard let smaps = readProcFile("/proc/self/smaps") else { return nil }
        var released = 0
        var failed = 0
        for mapping in releasableMappings(smaps: smaps) where mapping.residentKiB > 0 {
            let start = UnsafeMutableRawPointer(bitPattern: mapping.addresses.lowerBound)
            if madvise(start, Int(mapping.addresses.count), MADV_DONTNEED) == 0 {
                released += mapping.residentKiB
            } else {
                failed += 1
            }
        }
        return Release(releasedKiB: released, failedMappings: failed)
    }

    /// The qualifying mappings in `smaps`, the text of a `/proc/PID/smaps`.
    public static func releasableMappings(smaps: String) -> [Mapping] {
        var mappings: [Mapping] = []
        var current: (addresses: Range<UInt>, path: String, qualifies: Bool)?
        var resident = 0
        var anonymous = 0
        func finish() {
            if let current, current.qualifies, anonymous == 0 {
                mappings.append(Mapping(addresses: current.addresses, residentKiB: resident, path: current.path))
            }
        }
        for line in smaps.split(separator: "\n") {
            if let header = MappingHeader(line) {
                finish()
                current = (header.addresses, header.path, header.isCleanFileCode)
                resident = 0
                anonymous = 0
            } else if let kib = field("Rss:", of: line) {
                resident = kib
            } else if let kib = field("Anonymous:", of: line) {
                anonymous = kib
            }
        }
        finish()
        return mappings
    }

    /// A `kB` figure of an smaps field line such as `Rss:   1234 kB`, if `line` is that field.
    private static func field(_ name: String, of line: Substring) -> Int? {
        guard line.hasPrefix(name) else { return nil }
        let parts = line.dropFirst(name.count).split { $0 == " " || $0 == "\t" }
        guard parts.count == 2, parts[1] == "kB" else { return nil }
        return Int(parts[0])
    }

    private static func readProcFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard case let .success(bytes) = readToEnd(descriptor) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The first line of an smaps entry: `start-end perms offset dev inode [path]`.
private struct MappingHeader {
    let addresses: Range<UInt>
    let path: String
    let isCleanFileCode: Bool

    init?(_ line: Substring) {
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count >= 5 else { return nil }
        let bounds = fields[0].split(separator: "-")
        guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16), start < end,
            fields[1].count == 4, let inode = UInt(fields[4])
        else { return nil }
        let permissions = Array(fields[1].utf8)
        addresses = start..<end
        path = fields.count == 6 ? String(fields[5].drop { $0 == " " }) : ""
        // The kernel's own mappings ([vdso], [vsyscall]) have no inode. A file replaced on disk
        // (" (deleted)") still qualifies: its old inode lives as long as the mapping.
        isCleanFileCode = permissions == Array("r-xp".utf8) && inode != 0 && path.hasPrefix("/")
    }
}
