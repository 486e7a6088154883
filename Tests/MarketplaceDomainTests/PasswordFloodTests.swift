import Foundation
import Logging
import MarketplaceSQLite
import Testing

@testable import MarketplaceDomain

/// Issue 10 item 1: a flood of wrong guesses filled the hashing queue, and a
/// correct sign-in elsewhere waited behind all of it (33 s in the release
/// build). A peer now holds at most its share of the hashing threads.
@Suite(.sqliteOnly("the hashing queue, not storage: runs once, on the SQLite pass"))
struct PasswordFloodTests {
    @Test func aFloodFromOnePeerDoesNotQueueAheadOfAnotherPeersSignIn() async throws {
        let path = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStore(dataDirectory: path)
        // Hashes costly enough (32 MiB, 3 passes) that the flood's line lasts a while.
        let secrets = try Secrets(configuration: .inDataDirectory(
            path, passwordParameters: PasswordParameters(opsLimit: 3, memLimit: 32 << 20), hashingThreads: 2))
        let directory = UserDirectory(store: store, clock: ManualWallClock(), secrets: secrets, logger: Logger(label: "test"))
        let account = try await directory.createAccount(name: "Acme", type: .client, actor: Fixture.admin)
        let staff = try await directory.createGroup(accountID: account.id, name: "Staff", permissions: ["orders.read"], actor: Fixture.admin, access: Fixture.operatorAccess)
        let invited = try await directory.invite(
            accountID: account.id, email: "jane@example.com", firstName: "Jane", lastName: "Doe", groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
        _ = try await directory.acceptInvitation(
            token: Fixture.token(of: invited.link), firstName: "Jane", lastName: "Doe", password: Fixture.password, acceptTerms: true)

        let attacker = "uid:666"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<100 {
                group.addTask {
                    // Wrong, refused as busy, or throttled: all the same to the attacker.
                    _ = try? await directory.signIn(email: "guess\(i)@example.com", password: "Wrong-1a!", peer: attacker)
                }
            }
            let deadline = ContinuousClock.now + .seconds(120)
            while directory.signInThrottle.waitingChecks(peer: attacker) < 24 {
                try #require(ContinuousClock.now < deadline, "the attacker's line never filled")
                await Task.yield()
            }
            // Jane's check is queued behind the attacker's running checks only, not its line.
            let signedIn = try await directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "uid:1000")
            #expect(signedIn.user.email == "jane@example.com")
            #expect(directory.signInThrottle.waitingChecks(peer: attacker) > 0)
            try await group.waitForAll()
        }
        #expect(directory.signInThrottle.waitingChecks(peer: attacker) == 0)
    }
}
