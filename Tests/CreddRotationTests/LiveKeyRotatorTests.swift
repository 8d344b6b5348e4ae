import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddPlatform
import CreddRotation
import CreddSTS
import CreddTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

@Suite struct LiveKeyRotatorTests {
    struct NoRequests: STSTransport {
        func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
            Issue.record("no request expected")
            return TransportResponse(status: 500, body: [])
        }
    }

    static let stsEndpoint = STSEndpoint(url: URL(fileURLWithPath: "/unused"), signingRegion: "us-east-1")

    /// A bad `AWS_ENDPOINT_URL_IAM` fails every rotation with the variable's own message, and no request is made.
    @Test func anUnusableIAMEndpointFailsWithItsReason() throws {
        let rotator = LiveKeyRotator(
            transport: NoRequests(), environment: ["AWS_ENDPOINT_URL_IAM": "iam.local"], wallClock: ManualWallClock(Keys.now),
            logger: Logger(label: "test"))
        let error = try #require(throws: KeyRotationError.self) {
            try rotator.rotation(of: .credentialsFile(path: "/home/alice/.aws/credentials", section: "alice"), stsEndpoint: Self.stsEndpoint)
        }
        #expect(error.stage == .listingKeys)
        #expect(error.changedNothing)
        #expect(error.description.contains("AWS_ENDPOINT_URL_IAM 'iam.local' is not an http:// or https:// URL"))
    }

    /// Keys in the keyring are read from the Secret Service on the session bus the environment
    /// names: without one, the rotation stops at reading them, before any request.
    @Test func keyringKeysAreReadFromTheSessionBus() async throws {
        let rotator = LiveKeyRotator(
            transport: NoRequests(), environment: ["AWS_ENDPOINT_URL_IAM": "http://127.0.0.1:9"], wallClock: ManualWallClock(Keys.now),
            logger: Logger(label: "test"))
        let rotation = try rotator.rotation(of: .keyring(profile: "alice"), stsEndpoint: Self.stsEndpoint)
        let error = try await #require(throws: KeyRotationError.self) { try await rotation.rotate() }
        #expect(error.stage == .readingKeys && error.changedNothing)
        #expect(error.location == .keyring(profile: "alice"))
        guard case .keyStore(.keyring("alice", .unavailable(let reason))) = error.cause else {
            Issue.record("expected the keyring to be unavailable: \(error)")
            return
        }
        #expect(reason.contains("DBUS_SESSION_BUS_ADDRESS is unset"))
    }

    /// One NIO event loop as a task executor: in the daemon that loop is Swift concurrency's
    /// global executor, so every task and nonisolated async function runs on it.
    final class EventLoopExecutor: TaskExecutor {
        let loop: any EventLoop

        init(_ loop: any EventLoop) {
            self.loop = loop
        }

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    /// The file's lock is taken off the event loop: while another process holds it, the loop
    /// that asked still runs other work (the endpoint, the control socket), and the write
    /// completes once the lock is free.
    @Test func aHeldLockDoesNotBlockTheEventLoop() async throws {
        let directory = try TemporaryDirectory(prefix: "credd-rotation")
        try directory.write("credentials", "[alice]\naws_access_key_id = \(Keys.oldId)\naws_secret_access_key = \(Keys.oldSecret)\n", mode: nil)
        let writer = CredentialsFileWriter(
            path: directory.file("credentials"), clock: ManualWallClock(Keys.now), configuration: .init(lockTimeout: .seconds(30)))
        let store = CredentialsFileKeyStore(writer: writer, section: "alice", blockingWork: SerialBlockingWork())
        let lock = open(directory.file("credentials.lock"), O_RDWR | O_CREAT, 0o600)
        try #require(lock >= 0 && flock(lock, LOCK_EX) == 0)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let executor = EventLoopExecutor(group.next())
        let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
        let replacing = Task(executorPreference: executor) {
            startedContinuation.yield()
            try await store.replaceSourceKeys(replacing: Keys.oldId, with: Keys.new)
        }
        for await _ in started { break }

        let clock = ContinuousClock()
        let asked = clock.now
        try await executor.loop.submit {}.get()
        #expect(clock.now - asked < .seconds(5), "the event loop waited for the credentials file's lock")
        #expect(try writer.sourceKeys(inSection: "alice") == Keys.old, "written while the lock was held")

        flock(lock, LOCK_UN)
        close(lock)
        try await replacing.value
        #expect(try writer.sourceKeys(inSection: "alice") == Keys.new)
        try await group.shutdownGracefully()
    }
}
