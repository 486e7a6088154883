import Foundation
import Testing

@testable import MarketplaceDomain

@Suite struct SignInThrottleTests {
    @Test func attemptsInProgressCountAgainstTheLimit() throws {
        let clock = ManualWallClock()
        let throttle = SignInThrottle(clock: clock, limits: .init(failuresPerEmail: 2, failuresPerPeer: 3))
        let first = try throttle.begin(email: "a@example.com", peer: "p")
        let second = try throttle.begin(email: "A@example.com ", peer: "p")
        // Two guesses in flight for the email: a third waits, even from another peer.
        #expect(throws: DomainError.self) { try throttle.begin(email: "a@example.com", peer: "q") }
        throttle.finish(first, .abandoned)
        throttle.finish(second, .failed)
        let third = try throttle.begin(email: "a@example.com", peer: "q")
        throttle.finish(third, .failed)
        // Two failures: refused for the window, counted from the first failure.
        clock.advance(by: .seconds(100))
        do {
            _ = try throttle.begin(email: "a@example.com", peer: "")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.kind == .resourceExhausted)
            #expect(error.message == "too many failed sign-ins; try again in 800 seconds")
        }
        clock.advance(by: .seconds(800))
        let later = try throttle.begin(email: "a@example.com", peer: "")
        throttle.finish(later, .succeeded)
        // The success cleared the email; the peers keep their own counts.
        #expect(throttle.trackedKeys == 2)
    }

    /// Issue 10 item 6: failures from one peer never refuse another person's
    /// correct password from that peer; they only shrink the peer's share of
    /// the hashing (one check at a time), and a flood waits in a bounded line.
    @Test func peerFailuresSlowButNeverRefuse() async throws {
        let clock = ManualWallClock()
        let throttle = SignInThrottle(
            clock: clock, limits: .init(failuresPerEmail: 5, failuresPerPeer: 3, checksPerPeer: 2, waitingPerPeer: 1))
        for i in 0..<3 {
            let attempt = try throttle.begin(email: "u\(i)@example.com", peer: "uid:7")
            try await throttle.acquireSlot(attempt)
            throttle.finish(attempt, .failed)
        }
        // Another person from the same peer is not refused.
        let ada = try throttle.begin(email: "ada@example.com", peer: "uid:7")
        try await throttle.acquireSlot(ada)
        // Over its failure budget the peer runs one check at a time: the next waits for its turn...
        let bob = try throttle.begin(email: "bob@example.com", peer: "uid:7")
        let waiting = Task { try await throttle.acquireSlot(bob) }
        while throttle.waitingChecks(peer: "uid:7") == 0 { await Task.yield() }
        // ...and past the bounded line a check is refused as busy, not as a lockout.
        let carol = try throttle.begin(email: "carol@example.com", peer: "uid:7")
        do {
            try await throttle.acquireSlot(carol)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.kind == .resourceExhausted)
            #expect(error.message == "too many password checks in progress from this caller; retry shortly")
        }
        throttle.finish(carol, .abandoned)
        // Other peers are not slowed by it.
        let other = try throttle.begin(email: "dan@example.com", peer: "uid:8")
        try await throttle.acquireSlot(other)
        throttle.finish(other, .succeeded)
        // When Ada's check ends, Bob's starts.
        throttle.finish(ada, .succeeded)
        try await waiting.value
        throttle.finish(bob, .succeeded)
        #expect(throttle.waitingChecks(peer: "uid:7") == 0)
        // An empty peer has no share to wait for.
        for i in 0..<10 {
            let attempt = try throttle.begin(email: "v\(i)@example.com", peer: "")
            try await throttle.acquireSlot(attempt)
            throttle.finish(attempt, .failed)
        }
    }

    @Test func memoryIsBounded() throws {
        let clock = ManualWallClock()
        let throttle = SignInThrottle(clock: clock, limits: .init(maxTrackedKeys: 16))
        for i in 0..<200 {
            clock.advance(by: .seconds(1))
            throttle.finish(try throttle.begin(email: "user\(i)@example.com", peer: ""), .failed)
            #expect(throttle.trackedKeys <= 17)
        }
        // The most recent failures are kept.
        for _ in 0..<4 { throttle.finish(try throttle.begin(email: "user199@example.com", peer: ""), .failed) }
        #expect(throws: DomainError.self) { try throttle.begin(email: "user199@example.com", peer: "") }
    }
}
