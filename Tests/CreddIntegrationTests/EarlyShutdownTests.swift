import CreddTestSupport
import Foundation
import Testing

/// SIGTERM while the first refresh pass is still running: the services that wait for that pass
/// (READY, scheduled rotation) must not hold the shutdown open.
struct EarlyShutdownTests {
    @Test func sigtermDuringAFirstRenewalThatNeverEndsExitsAtOnce() throws {
        // An STS endpoint that takes connections and never answers them.
        let listener = try TCPSocket.bound(listening: true)
        defer { close(listener) }
        let harness = try CreddHarness(stsEndpoint: "http://127.0.0.1:\(try TCPSocket.port(of: listener))")
        try harness.writeCredentials(
            """
            [alice-long-term]
            aws_access_key_id = AKIAIOSFODNN7EXAMPLE
            aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYSTALLEXAMPLE

            """)
        try harness.writeConfig(
            """
            [credd]
            listen = 127.0.0.1:\(harness.endpointPort)

            [profile dev]
            source_profile = alice-long-term
            role_arn = arn:aws:iam::123456789012:role/Developer
            """)
        try harness.start()

        // The first renewal's request is on the wire once its connection arrives; held open, unanswered.
        var pending = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        try #require(poll(&pending, 1, 30_000) == 1, "credd made no STS request within 30 s; daemon log:\n\(harness.daemonLog())")
        let connection = accept(listener, nil, nil)
        defer { if connection >= 0 { close(connection) } }
        try #require(connection >= 0, "accept: errno \(errno)")

        let started = ContinuousClock.now
        let status = try harness.stop(timeout: 20)
        let took = ContinuousClock.now - started
        #expect(status == 0, "daemon log:\n\(harness.daemonLog())")
        // The services' graceful-shutdown limit is 5 s; a stall would take at least that.
        #expect(took < .seconds(2), "credd took \(took) to exit; daemon log:\n\(harness.daemonLog())")
    }
}
