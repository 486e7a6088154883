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

    @Test func peerLimitAndEmptyPeer() throws {
        let clock = ManualWallClock()
        let throttle = SignInThrottle(clock: clock, limits: .init(failuresPerEmail: 5, failuresPerPeer: 3))
        for i in 0..<3 { throttle.finish(try throttle.begin(email: "u\(i)@example.com", peer: "uid:7"), .failed) }
        #expect(throws: DomainError.self) { try throttle.begin(email: "fresh@example.com", peer: "uid:7") }
        // An empty peer is throttled per email only.
        for i in 0..<10 { throttle.finish(try throttle.begin(email: "v\(i)@example.com", peer: ""), .failed) }
        // A success does not clear the peer's failures.
        throttle.finish(try throttle.begin(email: "ok@example.com", peer: "uid:8"), .succeeded)
        #expect(throws: DomainError.self) { try throttle.begin(email: "fresh@example.com", peer: "uid:7") }
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
