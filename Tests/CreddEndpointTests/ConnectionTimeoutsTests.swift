import NIOCore
import Testing

@testable import CreddEndpoint

/// The connection timeouts as plain values: events in, the close deadline out.
struct ConnectionTimeoutsTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static func at(_ seconds: Int64) -> NIODeadline { start + .seconds(seconds) }

    func accepted() -> ConnectionTimeouts {
        ConnectionTimeouts(requestTimeout: .seconds(5), idleTimeout: .seconds(10), acceptedAt: Self.start)
    }

    @Test func aNewConnectionHasTheRequestTimeout() {
        let timeouts = accepted()
        #expect(timeouts.deadline == Self.at(5))
        #expect(!timeouts.hasExpired(at: Self.at(4)))
        #expect(timeouts.hasExpired(at: Self.at(5)))
    }

    @Test func bytesOfARequestDoNotExtendItsTimeout() {
        var timeouts = accepted()
        timeouts.bytesReceived(at: Self.at(3))
        timeouts.bytesReceived(at: Self.at(4))
        #expect(timeouts.deadline == Self.at(5))
    }

    @Test func noTimerRunsWhileARequestIsAnswered() {
        var timeouts = accepted()
        timeouts.requestReceived()
        #expect(timeouts.deadline == nil)
        #expect(!timeouts.hasExpired(at: Self.at(1000)))
    }

    @Test func afterAResponseTheIdleTimeoutRunsUntilTheNextRequestBegins() {
        var timeouts = accepted()
        timeouts.requestReceived()
        timeouts.responseSent(at: Self.at(20))
        #expect(timeouts.deadline == Self.at(30))
        timeouts.bytesReceived(at: Self.at(25))
        #expect(timeouts.deadline == Self.at(30), "the next request has the request timeout from its first byte")
        timeouts.bytesReceived(at: Self.at(26))
        #expect(timeouts.deadline == Self.at(30))
    }

    @Test func bytesThatArriveDuringAnAnswerStartTheNextRequestsTimeout() {
        var timeouts = accepted()
        timeouts.requestReceived()
        timeouts.bytesReceived(at: Self.at(1))
        #expect(timeouts.deadline == nil)
        timeouts.responseSent(at: Self.at(2))
        #expect(timeouts.deadline == Self.at(7))
    }

    @Test func aResponseTheClientDoesNotReadHasTheIdleTimeout() {
        var timeouts = accepted()
        timeouts.requestReceived()
        timeouts.responseBlocked(at: Self.at(1))
        #expect(timeouts.deadline == Self.at(11))
        #expect(timeouts.hasExpired(at: Self.at(11)))
        timeouts.responseUnblocked()
        #expect(timeouts.deadline == nil)
        timeouts.responseSent(at: Self.at(12))
        #expect(timeouts.deadline == Self.at(22))
    }

    @Test func bytesWhileBlockedAreRemembered() {
        var timeouts = accepted()
        timeouts.requestReceived()
        timeouts.responseBlocked(at: Self.at(1))
        timeouts.bytesReceived(at: Self.at(2))
        #expect(timeouts.deadline == Self.at(11))
        timeouts.responseUnblocked()
        timeouts.responseSent(at: Self.at(3))
        #expect(timeouts.deadline == Self.at(8))
    }
}
