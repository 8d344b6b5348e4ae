import CreddBus
import CreddPlatform
import CreddRefresh
import Logging
import ServiceLifecycle

/// Renews at once when the machine wakes from suspend: logind's `PrepareForSleep(false)` on the
/// system bus tells the engine, which checks every deadline and retries failures quickly for a
/// minute. Without a system bus (containers) the timer's own wake-up after a suspend still does
/// the checking, a little later.
struct ResumeWatcher: Service {
    let environment: [String: String]
    let engine: RefreshEngine
    let logger: Logger

    /// How often credd looks again for a system bus it did not find or lost.
    static let reconnectInterval: Duration = .seconds(60)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var reported = false
            repeat {
                await watch(reportingFailure: !reported)
                reported = true
            } while (try? await EventLoopClock().sleep(for: Self.reconnectInterval)) != nil
        }
        // Returning early would end the whole ServiceGroup.
        try? await gracefulShutdown()
    }

    private func watch(reportingFailure: Bool) async {
        let address = BusAddress.system(environment: environment)
        let connection: BusConnection
        let transitions: AsyncStream<Bool>
        do {
            connection = try await BusConnection.open(address: address, threadName: "credd-system")
            transitions = try await Logind.sleepTransitions(on: connection)
        } catch {
            if reportingFailure {
                logger.info("resume: \(error); renewals after a suspend wait for the timer", metadata: ["credd.event": "resume_unavailable"])
            }
            return
        }
        defer { connection.close() }
        for await sleeping in transitions where !sleeping {
            logger.info("resume: the machine woke up; checking every profile now", metadata: ["credd.event": "resumed"])
            await engine.resumed()
        }
    }
}
