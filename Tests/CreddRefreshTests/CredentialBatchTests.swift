import CreddCore
import Foundation
import Testing

@testable import CreddRefresh

/// The batching rules as plain values: updates and times in, deliveries out.
@Suite("Credential batch")
struct CredentialBatchTests {
    static let delay: TimeInterval = 5

    static func published(_ profile: String, expiring expiration: Date) -> CredentialUpdate {
        .published(profile: profile, credentials: sessionCredentials(expiring: expiration, key: "ASIA\(profile.uppercased())EXAMPLE"))
    }

    /// A batch past its first pass that delivered `delivered` for each profile.
    static func afterFirstPass(delivered: [CredentialUpdate] = []) -> CredentialBatch {
        var batch = CredentialBatch(maximumDelay: delay)
        batch.completeFirstPass()
        for update in delivered { batch.add(update, now: epoch) }
        _ = batch.take()
        return batch
    }

    @Test("during the first pass the batch waits for every renewal, however long, and has no deadline")
    func firstPassWaits() {
        var batch = CredentialBatch(maximumDelay: Self.delay)
        batch.add(Self.published("a", expiring: epoch + hour), now: epoch)
        #expect(batch.takeIfDue(now: epoch + 10 * minute, renewalsRunning: true) == nil)
        #expect(batch.deadline == nil)
        batch.add(Self.published("b", expiring: epoch + hour), now: epoch + 10 * minute)
        batch.completeFirstPass()
        let pass = batch.takeIfDue(now: epoch + 10 * minute, renewalsRunning: true, passJustCompleted: true)
        #expect(pass?.map(\.profile) == ["a", "b"])
        #expect(batch.updates.isEmpty)
    }

    @Test("after the first pass the batch goes out when no renewal runs, or after the delay")
    func delayAfterFirstPass() {
        var batch = Self.afterFirstPass()
        batch.add(Self.published("a", expiring: epoch + hour), now: epoch)
        #expect(batch.deadline == epoch + Self.delay)
        #expect(batch.takeIfDue(now: epoch + Self.delay - 1, renewalsRunning: true) == nil)
        #expect(batch.takeIfDue(now: epoch + Self.delay, renewalsRunning: true)?.map(\.profile) == ["a"])
        #expect(batch.deadline == nil)

        batch.add(Self.published("b", expiring: epoch + hour), now: epoch)
        #expect(batch.takeIfDue(now: epoch, renewalsRunning: false)?.map(\.profile) == ["b"])
        #expect(batch.takeIfDue(now: epoch, renewalsRunning: false) == nil, "nothing left to deliver")
    }

    /// What was delivered for "a" before, the update that follows, and whether it goes out at once.
    struct UrgencyCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let delivered: CredentialUpdate?
        let update: CredentialUpdate
        let urgent: Bool
    }

    static let urgency: [UrgencyCase] = [
        UrgencyCase(testDescription: "a withdrawal", delivered: nil, update: .withdrawn(profile: "a", reason: .expired), urgent: true),
        UrgencyCase(testDescription: "a profile never delivered", delivered: nil, update: published("a", expiring: epoch + hour), urgent: false),
        UrgencyCase(
            testDescription: "delivered credentials still long valid", delivered: published("a", expiring: epoch + hour),
            update: published("a", expiring: epoch + 2 * hour), urgent: false),
        UrgencyCase(
            testDescription: "delivered credentials expire within the delay", delivered: published("a", expiring: epoch + delay),
            update: published("a", expiring: epoch + hour), urgent: true),
        UrgencyCase(
            testDescription: "delivered credentials were withdrawn", delivered: .withdrawn(profile: "a", reason: .expired),
            update: published("a", expiring: epoch + hour), urgent: true),
        UrgencyCase(
            testDescription: "the profile was removed, then added again", delivered: .withdrawn(profile: "a", reason: .removed),
            update: published("a", expiring: epoch + hour), urgent: false),
    ]

    @Test("urgent updates do not wait for concurrent renewals", arguments: urgency)
    func urgentUpdates(_ example: UrgencyCase) {
        var batch = Self.afterFirstPass(delivered: example.delivered.map { [$0] } ?? [])
        batch.add(example.update, now: epoch)
        #expect((batch.takeIfDue(now: epoch, renewalsRunning: true) != nil) == example.urgent)
    }

    @Test("a later update of a profile supersedes the undelivered one, and its urgency with it")
    func laterUpdateSupersedes() {
        var batch = Self.afterFirstPass(delivered: [Self.published("a", expiring: epoch + hour)])
        batch.add(.withdrawn(profile: "a", reason: .expired), now: epoch)
        batch.add(Self.published("b", expiring: epoch + hour), now: epoch)
        let renewed = Self.published("a", expiring: epoch + 2 * hour)
        batch.add(renewed, now: epoch)
        #expect(batch.updates.map(\.profile) == ["b", "a"])
        #expect(batch.takeIfDue(now: epoch, renewalsRunning: true) == nil, "no withdrawal left to hurry it")
        #expect(batch.take()?.last == renewed)
    }

    @Test("take delivers everything pending, due or not, and nothing twice")
    func takeAtShutdown() {
        var batch = CredentialBatch(maximumDelay: Self.delay)
        #expect(batch.take() == nil)
        batch.add(Self.published("a", expiring: epoch + hour), now: epoch)
        #expect(batch.take()?.map(\.profile) == ["a"])
        #expect(batch.take() == nil)
    }
}
