import Foundation
import Logging
import MarketplaceDomain
import Testing

/// Issue 12: the per-email lockout counts failures made through every daemon
/// of one database, and survives a restart. Two ``UserDirectory`` values over
/// one store are two daemons: each has its own in-memory throttle.
@Suite struct SharedSignInThrottleTests {
    static let locked = "too many failed sign-ins; try again in"

    /// A second "daemon": its own directory (and throttle) over the fixture's store and clock.
    static func secondDaemon(_ f: Fixture) -> UserDirectory {
        UserDirectory(
            store: f.store, clock: f.clock, secrets: f.secrets,
            configuration: DirectoryConfiguration(invitationTTL: Fixture.ttl), logger: Logger(label: "test-2"))
    }

    @Test func failuresThroughEveryDaemonCountTowardsOneLockout() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            _ = try await f.join("jane@example.com", account, [staff])
            let other = Self.secondDaemon(f)
            // Five wrong passwords (the default limit), spread over the two daemons.
            for i in 0..<5 {
                let daemon = i.isMultiple(of: 2) ? f.directory : other
                let error = await expectDomainError(.unauthenticated) {
                    try await daemon.signIn(email: "jane@example.com", password: "Wrong-pass-\(i)", peer: "uid:\(1000 + i)")
                }
                #expect(error?.message == SessionTests.incorrect)
            }
            // Each daemon saw fewer than five, yet both refuse, even the right password, before hashing.
            for daemon in [f.directory, other] {
                let error = await expectDomainError(.resourceExhausted) {
                    try await daemon.signIn(email: "jane@example.com", password: Fixture.password, peer: "uid:2000")
                }
                #expect(error?.message.hasPrefix(Self.locked) == true, "\(String(describing: error))")
            }
            // A restarted daemon (a new directory, empty memory) still refuses.
            let restarted = Self.secondDaemon(f)
            await expectDomainError(.resourceExhausted) {
                try await restarted.signIn(email: "JANE@example.com ", password: Fixture.password, peer: "")
            }
            // Once the failures left the window, the right password works.
            f.clock.advance(by: .seconds(15 * 60 + 1))
            _ = try await other.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
        }
    }

    @Test func aRightPasswordClearsFailuresForEveryDaemon() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            _ = try await f.join("jane@example.com", account, [staff])
            let other = Self.secondDaemon(f)
            for i in 0..<4 {
                await expectDomainError(.unauthenticated) {
                    try await f.directory.signIn(email: "jane@example.com", password: "Wrong-pass-\(i)", peer: "")
                }
            }
            // The right password through the other daemon clears the shared count...
            _ = try await other.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            // ...so four more failures through it do not lock the email.
            for i in 0..<4 {
                await expectDomainError(.unauthenticated) {
                    try await other.signIn(email: "jane@example.com", password: "Wrong-again-\(i)", peer: "")
                }
            }
            _ = try await other.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
        }
    }

    @Test func failuresOutsideTheWindowArePurged() async throws {
        try await withFixture { f in
            for i in 0..<20 {
                await expectDomainError(.unauthenticated) {
                    try await f.directory.signIn(email: "nobody\(i)@example.com", password: "Wrong-pass-1", peer: "")
                }
            }
            f.clock.advance(by: .seconds(15 * 60 + 1))
            await expectDomainError(.unauthenticated) {
                try await f.directory.signIn(email: "late@example.com", password: "Wrong-pass-1", peer: "")
            }
            // Each recorded failure purges up to 16 that left the window: 20 - 16 old ones remain, plus the new one.
            let since = Date(timeIntervalSince1970: 0)
            var remaining = 0
            for i in 0..<20 {
                remaining += try await f.store.read { r in try r.signInFailures(emailKey: "nobody\(i)@example.com", since: since, limit: 100) }.count
            }
            #expect(remaining == 4)
        }
    }
}
