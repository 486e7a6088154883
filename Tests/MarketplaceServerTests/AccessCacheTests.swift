import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

@Suite("The client's AccessCache follows the change feed")
struct AccessCacheTests {
    @Test("a cached answer is dropped once a block is committed and the feed delivers it")
    func invalidatedByTheFeed() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (account, _, staff) = try await f.accountWithGroups("A")
            let member = try await f.accept(try await f.invite(account, "member@a.example", groups: [staff]).invitationLink)
            let token = try await client.sessions.signIn(.init(email: "member@a.example", password: "Str0ng!pass")).token
            let cache = AccessCache(client: client)
            cache.start()
            defer { cache.stop() }
            // Until the follower has caught up, every check goes to the server.
            while cache.statistics.hits == 0 {
                let answer = try await cache.check(.init(token: token))
                #expect(answer.allowed)
                try await Task.sleep(for: .milliseconds(10))
            }
            let before = cache.position
            _ = try await client.accountUsers.blockAccountUser(.init(accountUserId: member.id))
            await cache.waitUntilApplied(before + 1)
            let after = try await cache.check(.init(token: token))
            #expect(after.reason == .membershipBlocked)
        }
    }
}
