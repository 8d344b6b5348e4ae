import AsyncHTTPClient
import CreddCore
import CreddTestSupport
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import CreddEndpoint
@testable import CreddSSO

/// `credd login`'s loopback listener under attack by a process of the same user (the
/// hostile-neighbours rig repeats this as another user): forged and malformed requests are
/// answered and ignored, slow clients hold up nobody and are cut off, connections are bounded,
/// and the real callback still signs in. Other users' connections are reset unread.
@Suite(.serialized) struct RedirectListenerTests {
    static let state = "the-real-state-EXAMPLE"
    static let code = "the-real-code-EXAMPLE"

    /// The owner of every connection, as a test sets it; `nil` throws, as a lookup that fails.
    final class SettableOwners: SocketOwnerLookup {
        let owner: Mutex<UInt32?>

        init(_ owner: UInt32?) {
            self.owner = Mutex(owner)
        }

        func ownerUID(client: SocketEndpoint, server: SocketEndpoint) throws(EndpointError) -> UInt32? {
            guard let uid = owner.withLock({ $0 }) else { throw EndpointError.socketTableUnreadable(path: "/proc/net/tcp", errno: EACCES) }
            return uid
        }
    }

    /// Runs the attack against the listener, then (after `beforeCallback`) sends the real
    /// callback; returns the attack's report and the code the listener took.
    func attackThenSignIn(
        limits: RedirectListener.Limits, owners: SettableOwners = SettableOwners(getuid()), slow: Int, hold: Double,
        beforeCallback: @escaping @Sendable () -> Void = {}
    ) async throws -> (report: RedirectAttack.Report, code: String) {
        let reported = Mutex<RedirectAttack.Report?>(nil)
        let (code, _) = try await RedirectListener.waitForCode(
            state: Self.state, group: MultiThreadedEventLoopGroup.singleton, limits: limits, owners: owners
        ) { (port: Int) throws(SSOError) in
            do {
                let attack = try await ChildProcess.runOnDedicatedThread(
                    ["python3", "-I", "-c", RedirectAttack.script, String(port), String(slow), String(hold)], environment: ["PATH": "/usr/bin:/bin"],
                    timeout: 60)
                let report = try RedirectAttack.Report(parsing: attack.stdout + "\n" + attack.stderr)
                reported.withLock { $0 = report }
                beforeCallback()
                _ = try await HTTPClient.shared.get(url: "http://127.0.0.1:\(port)/oauth/callback?code=\(Self.code)&state=\(Self.state)").get()
            } catch {
                throw SSOError(kind: .loginFailed, operation: "test", message: "the attack or the callback failed: \(error)")
            }
            try? await Task.sleep(for: .seconds(30))
            throw SSOError(kind: .loginFailed, operation: "test", message: "the real callback did not end the wait")
        }
        return (try #require(reported.withLock { $0 }), code.revealed)
    }

    @Test func forgedAndMalformedRequestsAreAnsweredAndTheRealCallbackStillSignsIn() async throws {
        let limits = RedirectListener.Limits(connections: 16, requestTime: .seconds(5), requestBytes: 16 * 1024)
        let (report, code) = try await attackThenSignIn(limits: limits, slow: 5, hold: 1)
        #expect(code == Self.code)
        #expect(report.status("wrong-state") == 400)
        #expect(report.status("error-wrong-state") == 400)
        #expect(report.status("garbage") == 400)
        #expect(report.status("other-path") == 404)
        #expect(report.status("huge-header").map { $0 >= 400 } ?? true, "\(report.replies["huge-header"]?.prefix(80) ?? "")")
        #expect(report.status("huge-body") != 200)
        #expect(report.slowReset + report.slowClosed == 0, "the slow connections were cut before their time")
        for (probe, reply) in report.replies {
            #expect(!reply.contains(Self.state) && !reply.contains("forged-code"), "\(probe) got back \(reply.prefix(200))")
        }
    }

    @Test func slowClientsAreCutOffAfterTheTimeLimit() async throws {
        let limits = RedirectListener.Limits(connections: 16, requestTime: .milliseconds(500), requestBytes: 16 * 1024)
        let (report, code) = try await attackThenSignIn(limits: limits, slow: 3, hold: 5)
        #expect(code == Self.code)
        #expect(report.slowClosed + report.slowReset == 3)
        #expect((report.slowEndedAfter ?? 99) < 3, "\(String(describing: report.slowEndedAfter))")
    }

    @Test func connectionsBeyondTheLimitAreReset() async throws {
        let limits = RedirectListener.Limits(connections: 4, requestTime: .seconds(2), requestBytes: 16 * 1024)
        let (report, code) = try await attackThenSignIn(limits: limits, slow: 6, hold: 1)
        #expect(code == Self.code)
        #expect(report.slowReset == 2, "\(report)")
        // The slow connections held every place: the probes were turned away, not queued.
        #expect(report.replies.values.allSatisfy { $0 == "reset" || $0 == "closed" }, "\(report.replies.mapValues { $0.prefix(40) })")
    }

    /// The browser's own connections (a speculative one, a favicon) may still be arriving when
    /// the callback ends the wait: every one is closed cleanly, in every run.
    @Test(arguments: 1...5)
    func theCallbackAmidAFloodOfTheUsersConnectionsEndsCleanly(run: Int) async throws {
        let flood = """
            import socket, sys, threading
            port = int(sys.argv[1])
            def connect():
                for _ in range(40):
                    try:
                        # Short: once the wait has ended, nothing accepts and a full backlog drops the SYN.
                        s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
                        s.sendall(b"GET /favicon.ico HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n")
                    except OSError:
                        pass
            threads = [threading.Thread(target=connect) for _ in range(4)]
            for thread in threads:
                thread.start()
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(("GET /oauth/callback?code=%s&state=%s HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n" % (sys.argv[2], sys.argv[3])).encode())
            print(s.recv(100).decode().split("\\r\\n")[0])
            for thread in threads:
                thread.join()
            """
        // Room for all of them: none is reset, many are still queued when the callback ends the wait.
        let limits = RedirectListener.Limits(connections: 200, requestTime: .seconds(5), requestBytes: 16 * 1024)
        let (code, _) = try await RedirectListener.waitForCode(state: Self.state, group: MultiThreadedEventLoopGroup.singleton, limits: limits) {
            (port: Int) throws(SSOError) in
            _ = try? await ChildProcess.runOnDedicatedThread(
                ["python3", "-I", "-c", flood, String(port), Self.code, Self.state], environment: ["PATH": "/usr/bin:/bin"], timeout: 60)
            try? await Task.sleep(for: .seconds(30))
            throw SSOError(kind: .loginFailed, operation: "test", message: "the real callback did not end the wait")
        }
        #expect(code.revealed == Self.code)
    }

    @Test(arguments: [UInt32(4242), nil])
    func anotherUsersConnectionsAreResetUnread(owner: UInt32?) async throws {
        let owners = SettableOwners(owner)
        let limits = RedirectListener.Limits(connections: 16, requestTime: .seconds(5), requestBytes: 16 * 1024)
        let (report, code) = try await attackThenSignIn(limits: limits, owners: owners, slow: 3, hold: 1) {
            owners.owner.withLock { $0 = getuid() }
        }
        #expect(code == Self.code)
        #expect(report.slowReset == 3)
        // Reset before a byte was read; a client still sending when the reset comes may see its end as a close.
        #expect(report.replies.values.allSatisfy { $0 == "reset" || $0 == "closed" }, "\(report.replies.mapValues { $0.prefix(40) })")
    }
}
