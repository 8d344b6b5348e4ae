import CreddCore
import CreddTestSupport
import Foundation
import Logging
import Testing

@testable import CreddSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// Real sends over journald's native protocol. With journald running, one entry is sent and must be accepted.
/// Without it (containers, CI), and when running as root, the test stands in for journald: it binds
/// the native protocol socket itself, checks the exact bytes credd sent, and removes it again.
@Suite("journal, live", .serialized)
struct JournalLiveTests {
    static let journalSocket = "/run/systemd/journal/socket"

    @Test(.enabled(if: FileManager.default.fileExists(atPath: journalSocket), "no journald socket"))
    func runningJournaldAcceptsAnEntry() throws {
        try NativeJournalWriter().write([
            JournalField(name: "MESSAGE", value: "credd test entry"),
            JournalField(name: "PRIORITY", value: "7"),
            JournalField(name: "SYSLOG_IDENTIFIER", value: "credd-test"),
        ])
    }

    @Test(
        .enabled(
            if: !FileManager.default.fileExists(atPath: journalSocket) && getuid() == 0, "journald present or not root")
    )
    func nativeProtocolBytesAsJournaldReceivesThem() throws {
        let directory = "/run/systemd/journal"
        let createdDirectory = mkdir(directory, 0o755) == 0
        defer {
            unlink(Self.journalSocket)
            if createdDirectory { rmdir(directory) }
        }
        let journald = try boundUnixSocket(path: Self.journalSocket, type: Int32(SOCK_DGRAM.rawValue), listening: false)

        let secret = Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let logger = Logger(label: "credd.test") { label in
            JournalLogHandler(
                label: label, clock: ManualWallClock(Date(timeIntervalSince1970: 0)), fallbackOutput: RecordingOutput())
        }
        logger.warning(
            "first line\nsecond line", metadata: ["credd.profile": "dev", "token": .stringConvertible(secret)])

        let datagrams = queuedDatagrams(on: journald)
        try #require(datagrams.count == 1)
        let entry = datagrams[0]
        #expect(entry.hasPrefix("MESSAGE\n"), "a value with a newline uses the length-prefixed form")
        #expect(entry.contains("first line\nsecond line\n"))
        for field in [
            "PRIORITY=4\n", "SYSLOG_IDENTIFIER=credd\n", "CREDD_PROFILE=dev\n", "CREDD_TOKEN=<redacted>\n",
            "CREDD_LOGGER=credd.test\n",
        ] {
            #expect(entry.contains(field), "\(field)")
        }
        #expect(!entry.contains(secret.revealed))

        // A journal socket nobody reads (journald died): the writer names the failure. (When the
        // socket file is missing altogether, entries are dropped by design, as sd_journal_sendv does.)
        close(journald)
        let error = #expect(throws: SystemdError.self) {
            try NativeJournalWriter().write([JournalField(name: "MESSAGE", value: "credd test entry")])
        }
        #expect(
            error.map(String.init(describing:))?.contains("sending to the journal failed") == true,
            "\(String(describing: error))")
    }
}
