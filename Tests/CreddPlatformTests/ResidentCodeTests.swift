@testable import CreddPlatform
import Glibc
import Testing

@Suite struct ResidentCodeTests {
    static let smaps = """
        55d0c0a00000-55d0c0b00000 r--p 00000000 fe:00 1234                       /home/user/.local/bin/credd
        Size:               1024 kB
        Rss:                 512 kB
        Anonymous:             0 kB
        55d0c0b00000-55d0c2000000 r-xp 00100000 fe:00 1234                       /home/user/.local/bin/credd
        Size:              21504 kB
        Rss:               12648 kB
        Pss:               12648 kB
        Anonymous:             0 kB
        55d0c2000000-55d0c2100000 rw-p 01600000 fe:00 1234                       /home/user/.local/bin/credd
        Size:               1024 kB
        Rss:                 840 kB
        Anonymous:           840 kB
        7f1a2b000000-7f1a2b100000 r-xp 00000000 fe:00 99 /usr/lib/x86_64-linux-gnu/libpatched.so
        Size:               1024 kB
        Rss:                  64 kB
        Anonymous:             4 kB
        7f1a2c028000-7f1a2c1bd000 r-xp 00028000 fe:00 5678                       /usr/lib/x86_64-linux-gnu/libc.so.6
        Size:               1620 kB
        Rss:                1440 kB
        Anonymous:             0 kB
        7f1a2d000000-7f1a2d100000 r-xp 00000000 fe:00 4321                       /opt/old/credd (deleted)
        Rss:                 128 kB
        Anonymous:             0 kB
        7f1a2e000000-7f1a2e021000 rw-p 00000000 00:00 0 
        Rss:                 132 kB
        Anonymous:           132 kB
        7ffd5a1f0000-7ffd5a1f2000 r-xp 00000000 00:00 0                          [vdso]
        Rss:                   8 kB
        Anonymous:             0 kB
        ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
        Rss:                   0 kB
        """

    @Test func onlyCleanExecutableFileMappingsQualify() {
        let mappings = ResidentCode.releasableMappings(smaps: Self.smaps)
        #expect(mappings == [
            ResidentCode.Mapping(addresses: 0x55d0_c0b0_0000..<0x55d0_c200_0000, residentKiB: 12648, path: "/home/user/.local/bin/credd"),
            ResidentCode.Mapping(addresses: 0x7f1a_2c02_8000..<0x7f1a_2c1b_d000, residentKiB: 1440, path: "/usr/lib/x86_64-linux-gnu/libc.so.6"),
            ResidentCode.Mapping(addresses: 0x7f1a_2d00_0000..<0x7f1a_2d10_0000, residentKiB: 128, path: "/opt/old/credd (deleted)"),
        ])
    }

    @Test func anExecutableMappingWithPrivateCopiesIsLeftAlone() {
        // Dropping a private copy (a patched or relocated page) would lose what was written to it.
        let mappings = ResidentCode.releasableMappings(smaps: Self.smaps)
        #expect(!mappings.contains { $0.path.hasSuffix("libpatched.so") })
    }

    @Test func malformedTextYieldsNoMappings() {
        #expect(ResidentCode.releasableMappings(smaps: "").isEmpty)
        #expect(ResidentCode.releasableMappings(smaps: "zz-yy r-xp 0 0 1 /bin/x\nRss: 4 kB\n").isEmpty)
        #expect(ResidentCode.releasableMappings(smaps: "2000-1000 r-xp 0 fe:00 1 /bin/x\nRss: 4 kB\n").isEmpty, "end before start")
        // An unreadable Rss line counts as nothing resident rather than failing the whole read.
        #expect(ResidentCode.releasableMappings(smaps: "1000-2000 r-xp 0 fe:00 1 /bin/x\nRss: many kB\n")
            == [ResidentCode.Mapping(addresses: 0x1000..<0x2000, residentKiB: 0, path: "/bin/x")])
    }

    @Test func releasingThisProcessesCodeUnmapsItAndTheCodeStillRuns() throws {
        let before = try #require(Self.residentFileKiB())
        let outcome = try #require(ResidentCode.release())
        #expect(outcome.failedMappings == 0)
        #expect(outcome.releasedKiB > 0)
        let after = try #require(Self.residentFileKiB())
        #expect(after < before, "RssFile \(before) kB before, \(after) kB after")
        // Code that was unmapped runs again (faulted back from the page cache), with the same results.
        #expect(ResidentCode.releasableMappings(smaps: Self.smaps).count == 3)
        #expect(ResidentCode.release() != nil)
    }

    /// RssFile of this process, from /proc/self/status.
    private static func residentFileKiB() -> Int? {
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("RssFile:") {
                return Int(text.dropFirst("RssFile:".count).split { $0 == " " || $0 == "\t" }.first ?? "")
            }
        }
        return nil
    }
}

@Suite struct ReadToEndTests {
    @Test func readsAProcFileWhoseSizeIsZero() throws {
        let descriptor = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let bytes = try readToEnd(descriptor).get()
        #expect(String(decoding: bytes, as: UTF8.self).contains("VmRSS:"))
    }

    @Test func reportsTheErrnoOfAFailedRead() throws {
        let descriptor = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        #expect(readToEnd(descriptor) == .failure(ReadFailure(errno: EISDIR)))
    }
}
