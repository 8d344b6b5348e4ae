import CreddCore
import CreddTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CreddSystemd

#if canImport(Glibc)
    import Glibc
#endif

@Suite("log handlers")
struct LogHandlerTests {
    private static let start = Date(timeIntervalSince1970: 1_777_636_800)  // 2026-05-01T12:00:00Z

    final class RecordingJournal: JournalWriter {
        private let entries = Mutex<[[JournalField]]>([])
        private let failure: SystemdError?

        init(failingWith failure: SystemdError? = nil) {
            self.failure = failure
        }

        var written: [[JournalField]] { entries.withLock { $0 } }

        func write(_ fields: [JournalField]) throws(SystemdError) {
            if let failure {
                throw failure
            }
            entries.withLock { $0.append(fields) }
        }
    }

    @Test func stderrLineHasTimeLevelLabelMessageAndSortedMetadata() {
        let output = RecordingOutput()
        var logger = Logger(label: "credd.refresh") { label in
            StderrLogHandler(label: label, clock: ManualWallClock(Self.start), output: output)
        }
        logger[metadataKey: "credd.profile"] = "dev"
        logger.warning(
            "Renewal failed\nretrying",
            metadata: ["sts.request_id": "abc-123", "error": "Throttling: Rate exceeded", "empty": ""]
        )
        logger.debug("below the level")
        #expect(
            output.lines == [
                "2026-05-01T12:00:00Z warning credd.refresh: Renewal failed\\nretrying credd.profile=dev "
                    + "empty=\"\" error=\"Throttling: Rate exceeded\" sts.request_id=abc-123"
            ])
    }

    @Test func metadataProviderAndCallSiteMetadataAreMerged() {
        let output = RecordingOutput()
        let provider = Logger.MetadataProvider { ["credd.event": "tick", "credd.profile": "from-provider"] }
        let logger = Logger(label: "credd") { label in
            StderrLogHandler(
                label: label, clock: ManualWallClock(Self.start), output: output, metadataProvider: provider)
        }
        logger.info("hello", metadata: ["credd.profile": "dev"])
        #expect(output.lines == ["2026-05-01T12:00:00Z info credd: hello credd.event=tick credd.profile=dev"])
    }

    @Test func secretsNeverReachTheStderrLine() {
        let output = RecordingOutput()
        let secret = Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let logger = Logger(label: "credd") { label in
            StderrLogHandler(label: label, clock: ManualWallClock(Self.start), output: output)
        }
        logger.error("key \(secret)", metadata: ["secret": .stringConvertible(secret), "interpolated": "\(secret)"])
        let line = output.lines.joined()
        #expect(!line.contains(secret.revealed))
        #expect(line.contains("key <redacted> interpolated=<redacted> secret=<redacted>"))
    }

    @Test func journalHandlerWritesStructuredFields() throws {
        let journal = RecordingJournal()
        let secret = Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        var logger = Logger(label: "credd.endpoint") { label in
            JournalLogHandler(
                label: label, writer: journal, clock: ManualWallClock(Self.start), fallbackOutput: RecordingOutput())
        }
        logger[metadataKey: "credd.profile"] = "dev"
        logger.notice("Served credentials", metadata: ["credd.event": "served", "token": .stringConvertible(secret)])
        let entry = try #require(journal.written.first)
        let fields = Dictionary(entry.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(fields["MESSAGE"] == "Served credentials")
        #expect(fields["PRIORITY"] == "5")
        #expect(fields["SYSLOG_IDENTIFIER"] == "credd")
        #expect(fields["CREDD_PROFILE"] == "dev")
        #expect(fields["CREDD_EVENT"] == "served")
        #expect(fields["CREDD_TOKEN"] == "<redacted>")
        #expect(!entry.map(\.value).joined().contains(secret.revealed))
    }

    @Test func journalFailureFallsBackToAStderrLineWithTheReason() {
        let fallback = RecordingOutput()
        let journal = RecordingJournal(failingWith: SystemdError(.journalSendFailed(errno: ECONNREFUSED)))
        let logger = Logger(label: "credd") { label in
            JournalLogHandler(
                label: label, writer: journal, clock: ManualWallClock(Self.start), fallbackOutput: fallback)
        }
        logger.info("Started", metadata: ["credd.event": "start"])
        let line = fallback.lines.joined()
        #expect(line.hasPrefix("2026-05-01T12:00:00Z info credd: Started credd.event=start journal.error="))
        #expect(line.contains("sending to the journal failed"))
        #expect(line.contains("errno \(ECONNREFUSED)"))
    }

    @Test(arguments: [
        ("64769:1234567", true),
        ("0:0", true),
        ("64769", false),
        ("64769:", false),
        (":1234", false),
        ("a:b", false),
        ("1:2:3", false),
    ])
    func journalStreamParsing(value: String, valid: Bool) {
        #expect((CreddLogging.parseJournalStream(value) != nil) == valid)
    }

    @Test func journalStreamMustMatchTheDescriptor() throws {
        try TemporaryDirectory.with(prefix: "credd-systemd", in: "/tmp") { directory in
            let path = directory.appendingPathComponent("stream").path
            let fd = open(path, O_CREAT | O_RDWR, 0o600)
            try #require(fd >= 0)
            defer { close(fd) }
            var status = stat()
            try #require(fstat(fd, &status) == 0)
            #expect(CreddLogging.journalStream("\(status.st_dev):\(status.st_ino)", matchesFileDescriptor: fd))
            #expect(!CreddLogging.journalStream("\(status.st_dev):\(status.st_ino + 1)", matchesFileDescriptor: fd))
            #expect(!CreddLogging.journalStream("\(status.st_dev + 1):\(status.st_ino)", matchesFileDescriptor: fd))
            #expect(!CreddLogging.journalStream("\(status.st_dev):\(status.st_ino)", matchesFileDescriptor: -1))
        }
    }

    @Test func bootstrapChoosesStderrUnlessJournalStreamIsStderr() throws {
        let clock = ManualWallClock(Self.start)
        #expect(CreddLogging.bootstrapHandler(environment: [:], clock: clock)("credd") is StderrLogHandler)
        // A JOURNAL_STREAM inherited from elsewhere does not match this process's stderr.
        let stale = ["JOURNAL_STREAM": "1:1"]
        #expect(CreddLogging.bootstrapHandler(environment: stale, clock: clock)("credd") is StderrLogHandler)

        var status = stat()
        try #require(fstat(STDERR_FILENO, &status) == 0)
        let matching = ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]
        #expect(CreddLogging.bootstrapHandler(environment: matching, clock: clock)("credd") is JournalLogHandler)
        #expect(
            CreddLogging.bootstrapHandler(environment: matching, logLevel: .debug, clock: clock)("credd").logLevel
                == .debug)
    }
}
