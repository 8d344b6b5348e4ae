import CreddCore
import CreddTestSupport
import Foundation
import Glibc
import Synchronization

@testable import CreddCredentialsFile

enum Fixtures {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let clock = ManualWallClock(now)

    /// Session credentials valid for an hour; values are fakes that tests search for in output.
    static func session(_ tag: String, validFor seconds: TimeInterval = 3600) -> AWSCredentials {
        AWSCredentials(
            accessKeyId: "ASIA\(tag.uppercased())EXAMPLE",
            secretAccessKey: Secret("FAKE-SECRET-\(tag)"),
            sessionToken: Secret("FAKE-TOKEN-\(tag)"),
            expiration: now.addingTimeInterval(seconds)
        )
    }

    /// The managed section credd writes for `session(tag)`, with `\n` endings.
    static func managedSection(_ name: String, _ tag: String, validFor seconds: TimeInterval = 3600) -> String {
        """
        [\(name)]
        # managed by credd
        aws_access_key_id = ASIA\(tag.uppercased())EXAMPLE
        aws_secret_access_key = FAKE-SECRET-\(tag)
        aws_session_token = FAKE-TOKEN-\(tag)
        aws_security_token = FAKE-TOKEN-\(tag)
        x_security_token_expires = \(AWSTimestamp.format(now.addingTimeInterval(seconds)))

        """
    }
}

func fileStatus(_ path: String) -> stat? {
    var status = stat()
    return lstat(path, &status) == 0 ? status : nil
}

extension SectionOutcome {
    var change: Change? { try? result.get() }
    var failure: CredentialsFileError? {
        if case let .failure(error) = result { return error }
        return nil
    }
}

/// Counts calls from any thread.
final class CallCounter: Sendable {
    private let count = Mutex(0)

    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
