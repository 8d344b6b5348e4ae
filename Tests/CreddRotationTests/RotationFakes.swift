import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddTestSupport
import Foundation
import InMemoryLogging
import Logging
import Synchronization
import Testing

@testable import CreddRotation
@testable import CreddSTS

/// Fake key material: every message and log line is searched for these.
enum Keys {
    static let oldId = "AKIAEXAMPLE000000001"
    static let oldSecret = "OLDsecret/never+print/0123456789abcdefghij"
    static let newId = "AKIAEXAMPLE000000002"
    static let newSecret = "NEWsecret/never+print/9876543210zyxwvutsrq"
    static let otherId = "AKIAEXAMPLEY00000003"
    static let sessionId = "ASIAEXAMPLE000000004"
    static let sessionSecret = "SESSIONsecret/never+print/abcdefghij012345"
    static let sessionToken = "SESSIONtoken//never//print//FwoGZXIvYXdzEJr"
    static let secrets = [oldSecret, newSecret, sessionSecret, sessionToken]

    static let old = AWSCredentials(accessKeyId: oldId, secretAccessKey: Secret(oldSecret))
    static let new = AWSCredentials(accessKeyId: newId, secretAccessKey: Secret(newSecret))
    static let session = AWSCredentials(
        accessKeyId: sessionId, secretAccessKey: Secret(sessionSecret), sessionToken: Secret(sessionToken),
        expiration: Date(timeIntervalSince1970: 1_800_000_000))

    /// 2026-11-22T22:00:00Z
    static let now = Date(timeIntervalSince1970: 1_795_384_800)
    static let oldCreated = now.addingTimeInterval(-100 * 86_400)

    static func metadata(_ id: String, status: AccessKeyStatus = .active, created: Date = oldCreated) -> AccessKeyMetadata {
        AccessKeyMetadata(accessKeyId: id, status: status, createDate: created, userName: "alice")
    }

    static let newKey = NewAccessKey(metadata: metadata(newId, created: now), credentials: new, requestId: "req-create")

    static func expectNoSecrets(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        for secret in secrets {
            #expect(!text.contains(secret), "secret leaked: \(text.replacingOccurrences(of: secret, with: "<LEAK>"))", sourceLocation: sourceLocation)
        }
    }
}

func awsError(_ action: String, code: String, status: Int = 403, disposition: FailureDisposition = .needsChange) -> AWSQueryError {
    AWSQueryError(
        service: "IAM", action: action, kind: .service, code: code, message: "\(code) from the fake", requestId: "req-\(code)",
        httpStatus: status, attempts: 1, disposition: disposition)
}

/// One IAM call as the fake saw it: the action, its target and which key signed it.
struct IAMCall: Equatable, CustomStringConvertible {
    var action: String
    var accessKeyId: String?
    var userName: String?
    var signedWith: String

    var description: String { "\(action)(\(accessKeyId ?? "-"), user \(userName ?? "-"), signed by \(signedWith))" }
}

/// Scripted IAM: each action answers from its own queue; a call with an empty queue is a test
/// failure, never a silent default.
final class FakeIAM: AccessKeyManaging {
    struct Script {
        var list: [Result<[AccessKeyMetadata], AWSQueryError>] = []
        var create: [Result<NewAccessKey, AWSQueryError>] = []
        var update: [Result<Void, AWSQueryError>] = []
        var delete: [Result<Void, AWSQueryError>] = []
    }

    private let state: Mutex<(script: Script, calls: [IAMCall])>

    init(_ script: Script) {
        state = Mutex((script, []))
    }

    var calls: [IAMCall] { state.withLock { $0.calls } }

    func listAccessKeys(userName: String?, credentials: AWSCredentials) async throws(AWSQueryError) -> [AccessKeyMetadata] {
        try next(IAMCall(action: "ListAccessKeys", userName: userName, signedWith: credentials.accessKeyId)) {
            $0.list.isEmpty ? nil : $0.list.removeFirst()
        }
    }

    func createAccessKey(userName: String?, credentials: AWSCredentials) async throws(AWSQueryError) -> NewAccessKey {
        try next(IAMCall(action: "CreateAccessKey", userName: userName, signedWith: credentials.accessKeyId)) {
            $0.create.isEmpty ? nil : $0.create.removeFirst()
        }
    }

    func updateAccessKey(accessKeyId: String, status: AccessKeyStatus, userName: String?, credentials: AWSCredentials) async throws(AWSQueryError) {
        #expect(status == .inactive)
        try next(IAMCall(action: "UpdateAccessKey", accessKeyId: accessKeyId, userName: userName, signedWith: credentials.accessKeyId)) {
            $0.update.isEmpty ? nil : $0.update.removeFirst()
        }
    }

    func deleteAccessKey(accessKeyId: String, userName: String?, credentials: AWSCredentials) async throws(AWSQueryError) {
        try next(IAMCall(action: "DeleteAccessKey", accessKeyId: accessKeyId, userName: userName, signedWith: credentials.accessKeyId)) {
            $0.delete.isEmpty ? nil : $0.delete.removeFirst()
        }
    }

    private func next<T>(_ call: IAMCall, _ pop: (inout Script) -> Result<T, AWSQueryError>?) throws(AWSQueryError) -> T {
        let result = state.withLock { state in
            state.calls.append(call)
            return pop(&state.script)
        }
        guard let result else {
            Issue.record("unexpected IAM call \(call)")
            throw awsError(call.action, code: "UnexpectedCall")
        }
        return try result.get()
    }
}

/// Scripted STS GetCallerIdentity, one queue per access key id.
final class FakeSTS: CallerIdentityChecking {
    private let state: Mutex<(script: [String: [Result<CallerIdentity, AWSQueryError>]], calls: [String])>

    init(_ script: [String: [Result<CallerIdentity, AWSQueryError>]]) {
        state = Mutex((script, []))
    }

    var calls: [String] { state.withLock { $0.calls } }

    func getCallerIdentity(credentials: AWSCredentials) async throws(AWSQueryError) -> CallerIdentity {
        let result = state.withLock { state -> Result<CallerIdentity, AWSQueryError>? in
            state.calls.append(credentials.accessKeyId)
            guard var queue = state.script[credentials.accessKeyId], !queue.isEmpty else { return nil }
            let first = queue.removeFirst()
            state.script[credentials.accessKeyId] = queue
            return first
        }
        guard let result else {
            Issue.record("unexpected GetCallerIdentity with \(credentials.accessKeyId)")
            throw awsError("GetCallerIdentity", code: "UnexpectedCall")
        }
        return try result.get()
    }

    static func alice(arn: String = "arn:aws:iam::111111111111:user/alice") -> Result<CallerIdentity, AWSQueryError> {
        .success(CallerIdentity(account: "111111111111", arn: arn, userId: "AIDAALICE", requestId: "req-identity"))
    }

    static let notYet = Result<CallerIdentity, AWSQueryError>.failure(awsError("GetCallerIdentity", code: "InvalidClientTokenId"))
}

/// The key store as a value (the credentials file section `alice` unless told otherwise):
/// holds the current keys and fails reads and replacements on cue.
final class FakeKeyStore: SourceKeyStore {
    let location: KeyLocation
    private let state: Mutex<(keys: AWSCredentials, readFailure: KeyStoreError?, replaceFailures: [KeyStoreError?], replacements: [String])>

    init(
        holding keys: AWSCredentials = Keys.old, location: KeyLocation = .credentialsFile(path: "/home/alice/.aws/credentials", section: "alice"),
        readFailure: KeyStoreError? = nil, replaceFailures: [KeyStoreError?] = []
    ) {
        self.location = location
        state = Mutex((keys, readFailure, replaceFailures, []))
    }

    /// The keyring item of `alice`.
    static func keyring(readFailure: KeyStoreError? = nil, replaceFailures: [KeyStoreError?] = []) -> FakeKeyStore {
        FakeKeyStore(location: .keyring(profile: "alice"), readFailure: readFailure, replaceFailures: replaceFailures)
    }

    var keys: AWSCredentials { state.withLock { $0.keys } }
    /// The key ids written, in order.
    var replacements: [String] { state.withLock { $0.replacements } }

    func sourceKeys() throws(KeyStoreError) -> AWSCredentials {
        let (keys, failure) = state.withLock { ($0.keys, $0.readFailure) }
        if let failure { throw failure }
        return keys
    }

    func replaceSourceKeys(replacing expectedAccessKeyId: String, with newKeys: AWSCredentials) throws(KeyStoreError) {
        let failure = state.withLock { state -> KeyStoreError? in
            #expect(state.keys.accessKeyId == expectedAccessKeyId, "compare-and-swap expected \(expectedAccessKeyId)")
            let failure = state.replaceFailures.isEmpty ? nil : state.replaceFailures.removeFirst()
            if failure == nil {
                state.keys = newKeys
                state.replacements.append(newKeys.accessKeyId)
            }
            return failure
        }
        if let failure { throw failure }
    }

    static let diskFull = KeyStoreError.file(
        CredentialsFileError(
            reason: .writeFailed, file: "/home/alice/.aws/credentials", systemError: "No space left on device",
            message: "cannot write the new file; nothing was written"))
}

/// Records the waits instead of waiting; can fail like a cancelled task.
final class SleepRecorder: Sendable {
    private let state = Mutex<(sleeps: [Duration], failAfter: Int?)>(([], nil))

    init(failAfter: Int? = nil) {
        state.withLock { $0.failAfter = failAfter }
    }

    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    var sleep: @Sendable (Duration) async throws -> Void {
        { [self] duration in
            let cancelled = state.withLock { state -> Bool in
                if let limit = state.failAfter, state.sleeps.count >= limit { return true }
                state.sleeps.append(duration)
                return false
            }
            if cancelled { throw CancellationError() }
        }
    }
}

/// A rotation wired to fakes, with a log that tests search for secrets.
struct Harness {
    let iam: FakeIAM
    let sts: FakeSTS
    let store: FakeKeyStore
    let sleeper: SleepRecorder
    let logs = InMemoryLogHandler()

    init(
        iam: FakeIAM.Script, sts: [String: [Result<CallerIdentity, AWSQueryError>]], store: FakeKeyStore = FakeKeyStore(),
        sleeper: SleepRecorder = SleepRecorder()
    ) {
        self.iam = FakeIAM(iam)
        self.sts = FakeSTS(sts)
        self.store = store
        self.sleeper = sleeper
    }

    func rotation(acceptanceAttempts: Int = 4) -> KeyRotation {
        KeyRotation(
            iam: iam, sts: sts, keyStore: store, wallClock: ManualWallClock(Keys.now), sleep: sleeper.sleep,
            configuration: .init(acceptanceAttempts: acceptanceAttempts, acceptanceInitialDelay: .seconds(1), acceptanceMaxDelay: .seconds(3)),
            logger: .recording(into: logs, label: "test"))
    }

    func expectNoSecretsAnywhere(_ extra: String = "", sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        Keys.expectNoSecrets(logs.renderedText + "\n" + extra, sourceLocation: sourceLocation)
    }
}
