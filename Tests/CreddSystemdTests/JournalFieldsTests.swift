import CreddCore
import Foundation
import Logging
import Testing

@testable import CreddSystemd

@Suite("journal fields")
struct JournalFieldsTests {
    private func event(
        _ level: Logger.Level = .info,
        _ message: Logger.Message = "Renewed session",
        error: (any Error)? = nil
    ) -> LogEvent {
        var event = LogEvent(
            level: level, message: message, metadata: nil, source: "CreddRefresh",
            file: "CreddRefresh/RefreshEngine.swift", function: "renew()", line: 42
        )
        event.error = error
        return event
    }

    @Test func structuredEntryCarriesMessagePriorityIdentifierAndMetadata() {
        let fields = JournalFields.fields(
            for: event(.warning),
            label: "credd.refresh",
            metadata: ["credd.profile": "dev", "credd.event": "refreshed", "sts.request_id": "abc-123"]
        )
        #expect(
            fields.map { "\($0.name)=\($0.value)" } == [
                "MESSAGE=Renewed session",
                "PRIORITY=4",
                "SYSLOG_IDENTIFIER=credd",
                "CODE_FILE=CreddRefresh/RefreshEngine.swift",
                "CODE_LINE=42",
                "CODE_FUNC=renew()",
                "CREDD_LOGGER=credd.refresh",
                "CREDD_EVENT=refreshed",
                "CREDD_PROFILE=dev",
                "CREDD_STS_REQUEST_ID=abc-123",
            ])
    }

    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func priorityFollowsSyslogLevels(level: Logger.Level, priority: Int) {
        #expect(JournalFields.priority(for: level) == priority)
    }

    @Test(arguments: [
        ("credd.profile", "CREDD_PROFILE"),
        ("credd.event", "CREDD_EVENT"),
        ("sts.request_id", "CREDD_STS_REQUEST_ID"),
        ("_SYSTEMD_UNIT", "CREDD__SYSTEMD_UNIT"),
        ("profile name/é", "CREDD_PROFILE_NAME__"),
        ("", "CREDD_"),
        (String(repeating: "k", count: 100), "CREDD_" + String(repeating: "K", count: 58)),
    ])
    func metadataKeysBecomeValidFieldNames(key: String, field: String) {
        let name = JournalFields.fieldName(forMetadataKey: key)
        #expect(name == field)
        #expect(name.count <= 64)
        #expect(!name.hasPrefix("_"))
        #expect(name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
    }

    @Test func secretsInMetadataAndErrorsAreRedacted() {
        let secret = Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let credentials = AWSCredentials(
            accessKeyId: "AKIAIOSFODNN7EXAMPLE",
            secretAccessKey: secret,
            sessionToken: Secret("FwoGZXIvYXdzEXAMPLETOKEN"),
            expiration: nil
        )
        let fields = JournalFields.fields(
            for: event(.info, "Token \(secret)", error: RefreshFailure(disposition: .retryable, message: "Throttling")),
            label: "credd",
            metadata: ["credd.secret": .stringConvertible(secret), "credentials": "\(credentials)"]
        )
        let text = fields.map { "\($0.name)=\($0.value)" }.joined(separator: "\n")
        #expect(!text.contains(secret.revealed))
        #expect(!text.contains("FwoGZXIvYXdzEXAMPLETOKEN"))
        #expect(text.contains("CREDD_SECRET=<redacted>"))
        #expect(text.contains("MESSAGE=Token <redacted>"))
        #expect(text.contains("CREDD_ERROR=Throttling"))
    }
}
