import CreddCore
import CreddSTS
import CreddTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// Keeps every log line (message and metadata) in memory.
struct RecordingLogHandler: LogHandler {
    final class Store: Sendable {
        let lines = Mutex<[String]>([])
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        store.lines.withLock { $0.append("\(event.level) \(event.message) \(merged)") }
    }
}

@Suite struct LogSecrecyTests {
    @Test func retriesAndSkewAreLoggedWithoutSecrets() async throws {
        let store = RecordingLogHandler.Store()
        let logger = Logger(label: "test") { _ in RecordingLogHandler(store: store) }
        let transport = FakeTransport([
            .error(
                403, code: "RequestTimeTooSkewed", message: "skewed; token \(Fake.sessionToken)",
                headers: [.init(name: "Date", value: "Sun, 22 Nov 2026 22:10:00 GMT")]),
            .error(400, code: "Throttling", message: "Rate exceeded for \(Fake.secretKey)"),
            .ok(STSXML.getSessionToken()),
        ])
        let sleeps = SleepRecorder()
        let client = STSClient(
            transport: transport, endpoint: try #require(URL(string: "https://sts.amazonaws.com")), signingRegion: "us-east-1",
            wallClock: ManualWallClock(Fake.now), retryTiming: sleeps.timing(), logger: logger)

        let session = try await client.getSessionToken(
            credentials: Fake.session, durationSeconds: 3600,
            mfa: MFAToken(serialNumber: "arn:aws:iam::1:mfa/a", code: Secret(Fake.mfaCode)))

        let lines = store.lines.withLock { $0 }
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.contains("\"credd.clock_offset_seconds\": 600") == true, "\(lines)")
        #expect(lines.last?.contains("Throttling") == true)
        for line in lines + ["\(session)", "\(session.credentials)", String(reflecting: session)] {
            Fake.expectNoSecrets(line)
            #expect(!line.contains(Fake.mfaCode))
        }
    }
}
