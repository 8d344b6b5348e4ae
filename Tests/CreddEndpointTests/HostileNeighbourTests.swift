import CreddCore
import CreddTestSupport
import Foundation
import InMemoryLogging
import Synchronization
import Testing

@testable import CreddEndpoint

/// Another local user attacks the endpoint while its owner fetches credentials: an 800-connection
/// slowloris and a reset-after-request flood, as a real second uid. Prints the share of the
/// owner's fetches served and the descriptor high-water mark. Run by `scripts/hostile-neighbours`
/// (which sets CREDD_HOSTILE_NEIGHBOURS=1), as root.
@Suite(.serialized, .enabled(if: Neighbour.requested, "run by scripts/hostile-neighbours"))
struct HostileNeighbourTests {
    static let attackSeconds = 10

    let source = FakeCredentialSource([
        "dev": .available(FakeCredentials.make(expiration: Date().addingTimeInterval(3600)), roleArn: nil, lastUpdated: Date())
    ])
    let logs = InMemoryLogHandler()

    /// The attacker: `MODE PORT SECONDS [CONNECTIONS]`; prints how many connections it opened.
    static let attacker = #"""
        import errno, selectors, socket, struct, sys, time
        mode, port = sys.argv[1], int(sys.argv[2])
        deadline = time.monotonic() + float(sys.argv[3])
        request = b"GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        opened = 0
        if mode == "slowloris":
            # Keeps CONNECTIONS connections open with half a request each, reopening whatever closes.
            wanted = int(sys.argv[4])
            selector = selectors.DefaultSelector()
            while time.monotonic() < deadline:
                while len(selector.get_map()) < wanted:
                    s = socket.socket()
                    s.setblocking(False)
                    try:
                        s.connect(("127.0.0.1", port))
                    except BlockingIOError:
                        pass
                    except OSError:
                        s.close()
                        break
                    opened += 1
                    selector.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, False)
                for key, events in selector.select(0.05):
                    s = key.fileobj
                    try:
                        if events & selectors.EVENT_WRITE and not key.data:
                            s.send(request)
                            selector.modify(s, selectors.EVENT_READ, True)
                        if events & selectors.EVENT_READ and not s.recv(4096):
                            raise OSError("closed")
                    except OSError:
                        selector.unregister(s)
                        s.close()
        elif mode == "rst":
            # A whole request, then a reset instead of reading the answer.
            while time.monotonic() < deadline:
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.settimeout(1)
                try:
                    s.connect(("127.0.0.1", port))
                    s.send(request + b"Authorization: guess\r\n\r\n")
                    opened += 1
                except OSError:
                    pass
                s.close()
        elif mode == "bind":
            for family, address in ((socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1")):
                s = socket.socket(family)
                try:
                    s.bind((address, port))
                    s.listen()
                    print(address, "bound")
                except OSError as error:
                    print(address, errno.errorcode.get(error.errno, str(error.errno)))
                s.close()
        print("opened", opened)
        """#

    /// What the owner saw while fetching over fresh connections for `seconds`.
    struct OwnerFetches: Sendable {
        var served = 0
        var total = 0
        var latencies: [Double] = []

        var share: Double { total == 0 ? 0 : Double(served) / Double(total) }

        func percentile(_ p: Double) -> Double {
            let sorted = latencies.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
        }
    }

    static func fetchAsOwner(port: Int, seconds: Int) -> OwnerFetches {
        var fetches = OwnerFetches()
        let end = Date().addingTimeInterval(TimeInterval(seconds))
        let request = Array(EndpointServerTests.containerRequest(port: port).utf8)
        while Date() < end {
            let start = Date()
            let descriptor = RawHTTPClient.connect(port: port, receiveTimeoutSeconds: 5)
            var status: Int?
            if descriptor >= 0 {
                RawHTTPClient.send(descriptor, request)
                status = RawHTTPClient.readResponse(descriptor)?.status
                close(descriptor)
            }
            fetches.total += 1
            if status == 200 {
                fetches.served += 1
                fetches.latencies.append(Date().timeIntervalSince(start) * 1000)
            }
            usleep(20_000)
        }
        return fetches
    }

    /// Counts this process's descriptors every 10 ms until stopped; the most seen.
    final class DescriptorWatch: Sendable {
        private let stopped = Atomic(false)
        private let highWater = Atomic(0)

        static func count() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        }

        func run() {
            while !stopped.load(ordering: .relaxed) {
                let count = Self.count()
                if count > highWater.load(ordering: .relaxed) { highWater.store(count, ordering: .relaxed) }
                usleep(10_000)
            }
        }

        func stop() -> Int {
            stopped.store(true, ordering: .relaxed)
            return highWater.load(ordering: .relaxed)
        }
    }

    @Test(arguments: ["slowloris", "rst"])
    func ownerIsServedWhileAnotherUserFloods(attack: String) async throws {
        guard let neighbour = try await Neighbour.find() else { return }
        let baseline = DescriptorWatch.count()
        // Idle connections outlive the attack: only an eviction could close the owner's.
        let limits = EndpointConfiguration.Limits(idleTimeout: .seconds(120))
        let (owner, attacker, highWater, kept) = try await TestEndpoint.withRunning(
            configuration: TestEndpoint.configuration(limits: limits), source: source, logHandler: logs
        ) { port in
            // A keep-alive connection the owner opened before the attack: strangers must not evict it.
            let keptAlive = RawHTTPClient.connect(port: port)
            defer { close(keptAlive) }
            let request = Array(EndpointServerTests.containerRequest(port: port).utf8)
            let before = await onDedicatedThread { RawHTTPClient.send(keptAlive, request) ? RawHTTPClient.readResponse(keptAlive)?.status : nil }
            try #require(before == 200)

            let watch = DescriptorWatch()
            let watching = Task { await onDedicatedThread { watch.run() } }
            async let attacking = neighbour.runPython(Self.attacker, [attack, String(port), String(Self.attackSeconds), "800"], timeout: 60)
            let owner = await onDedicatedThread { Self.fetchAsOwner(port: port, seconds: Self.attackSeconds) }
            let attacker = try await attacking
            let highWater = watch.stop()
            await watching.value
            let after = await onDedicatedThread { RawHTTPClient.send(keptAlive, request) ? RawHTTPClient.readResponse(keptAlive)?.status : nil }
            return (owner, attacker, highWater, after)
        }
        let opened = attacker.stdout.split(separator: "\n").last { $0.hasPrefix("opened ") }.flatMap { Int($0.dropFirst(7)) } ?? 0
        let refused = logs.entries.compactMap { $0.metadata["credd.refused"].flatMap { Int("\($0)") } }.reduce(0, +)
        let logLines = logs.entries.filter { $0.level >= .notice }.count
        print(
            String(
                format: "hostile-neighbours: %@ from uid %u (%d connections opened, %d refused): owner served %d/%d fetches (%.1f %%), "
                    + "p50 %.1f ms, p99 %.1f ms; descriptors %d before, high-water %d; %d log lines at notice or above",
                attack, neighbour.uid, opened, refused, owner.served, owner.total, owner.share * 100, owner.percentile(0.5), owner.percentile(0.99),
                baseline, highWater, logLines))
        #expect(attacker.status == 0, "\(attacker.stderr)")
        #expect(opened > 1000, "the attack did not get going: \(attacker.stdout) \(attacker.stderr)")
        #expect(owner.share >= 0.99, "owner served \(owner.served) of \(owner.total)")
        #expect(kept == 200, "the owner's keep-alive connection did not survive the attack")
        #expect(highWater - baseline < 200, "descriptors grew from \(baseline) to \(highWater)")
        // One summary per reason and interval, not a line per connection.
        #expect(logLines <= 2 * (Self.attackSeconds / 10 + 2), "\(logLines) log lines")
    }

    @Test func anotherUserCannotBindEitherLoopbackAddressOfThePort() async throws {
        guard let neighbour = try await Neighbour.find() else { return }
        let attempt = try await TestEndpoint.withRunning(source: source, logHandler: logs) { port in
            try await neighbour.runPython(Self.attacker, ["bind", String(port), "0"], timeout: 30)
        }
        print(
            "hostile-neighbours: binding the endpoint's port as uid \(neighbour.uid): \(attempt.stdout.split(separator: "\n").prefix(2).joined(separator: ", "))"
        )
        #expect(attempt.stdout.contains("::1 EADDRINUSE"), "\(attempt.stdout) \(attempt.stderr)")
        #expect(attempt.stdout.contains("127.0.0.1 EADDRINUSE"), "\(attempt.stdout) \(attempt.stderr)")
    }
}
