import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// marketplace.users.v1.Users, promise by promise.
@Suite("Conformance: Users")
struct UsersConformanceTests {
    // contract: marketplace.users.v1.Users/GetUser INVALID_ARGUMENT NOT_FOUND
    // contract: marketplace.users.v1.Users/FindUserByEmail INVALID_ARGUMENT NOT_FOUND
    @Test("GetUser and FindUserByEmail: the same user (email case-insensitive); refusals for malformed and unknown")
    func getAndFind() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let invited = try #require(try await f.invite(acme, "Ada@Example.com", groups: [staff]).accountUser?.user)
            let user = try #require(try await client.users.getUser(.init(userId: invited.id)).user)
            #expect(user.id.wholeMatch(of: /USR-\d{4}-\d{4}/) != nil)
            #expect(user.email == "ada@example.com" && user.status == .active && !user.hasPassword && user.lastSignInAt == nil)
            #expect(try await client.users.findUserByEmail(.init(email: " ADA@example.COM ")).user == user)
            await expectRPCError(.invalidArgument, "user_id") { try await client.users.getUser(.init(userId: "ada")) }
            await expectRPCError(.notFound, "USR-0000-0000") { try await client.users.getUser(.init(userId: "USR-0000-0000")) }
            await expectRPCError(.invalidArgument, "email") { try await client.users.findUserByEmail(.init(email: "not an email")) }
            await expectRPCError(.notFound) { try await client.users.findUserByEmail(.init(email: "bob@example.com")) }
        }
    }

    // contract: marketplace.users.v1.Users/ListUsers ORDER INVALID_ARGUMENT
    @Test("ListUsers: by id, a page at a time; refusals for page size and token")
    func listUsers() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            var ids: [String] = []
            for i in 0..<5 {
                ids.append(try #require(try await f.invite(acme, "u\(i)@example.com", groups: [staff]).accountUser?.user?.id))
            }
            let page = try await client.users.listUsers(.init(pageSize: 3))
            let rest = try await client.users.listUsers(.init(pageSize: 3, pageToken: page.nextPageToken))
            #expect(rest.nextPageToken.isEmpty)
            #expect((page.users + rest.users).map(\.id) == ids.sorted())
            await expectRPCError(.invalidArgument, "page_size") { try await client.users.listUsers(.init(pageSize: 501)) }
            await expectRPCError(.invalidArgument, "page_token") { try await client.users.listUsers(.init(pageToken: "garbage")) }
        }
    }

    // contract: marketplace.users.v1.Users/DeleteUser NOT_FOUND FAILED_PRECONDITION
    @Test("DeleteUser: data erased, every membership DELETED, the email free; refusals for unknown and deleted")
    func deleteUser() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups("Acme")
            let (globex, _, globexStaff) = try await f.accountWithGroups("Globex")
            let a = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [staff]).invitationLink)
            let g = try #require(try await f.invite(globex, "ada@example.com", groups: [globexStaff]).accountUser)
            let userID = try #require(a.user?.id)
            let deleted = try #require(try await client.users.deleteUser(.init(userId: userID)).user)
            #expect(deleted.status == .deleted && deleted.firstName.isEmpty && deleted.lastName.isEmpty && deleted.phone.isEmpty)
            #expect(deleted.email != "ada@example.com" && !deleted.hasPassword)
            for id in [a.id, g.id] {
                #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: id)).accountUser?.status == .deleted)
            }
            await expectRPCError(.unauthenticated) { try await client.sessions.signIn(.init(email: "ada@example.com", password: Conformance.password)) }
            await expectRPCError(.failedPrecondition, "deleted") { try await client.users.deleteUser(.init(userId: userID)) }
            await expectRPCError(.notFound) { try await client.users.deleteUser(.init(userId: "USR-0000-0000")) }
            #expect(try await f.invite(acme, "ada@example.com", groups: [staff]).accountUser?.user?.id != userID)
        }
    }

    // contract: marketplace.users.v1.Users/ListUserAccountUsers ORDER INVALID_ARGUMENT NOT_FOUND
    @Test("ListUserAccountUsers: every membership of the user in any status, by id; refusals for malformed and unknown")
    func memberships() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, acmeStaff) = try await f.accountWithGroups("Acme")
            let (globex, _, globexStaff) = try await f.accountWithGroups("Globex")
            let (initech, _, initechStaff) = try await f.accountWithGroups("Initech")
            let a = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [acmeStaff]).invitationLink)
            let g = try #require(try await f.invite(globex, "ada@example.com", groups: [globexStaff]).accountUser)
            let i = try #require(try await f.invite(initech, "ada@example.com", groups: [initechStaff]).accountUser)
            _ = try await client.accountUsers.revokeInvitation(.init(accountUserId: i.id))
            _ = try await f.invite(acme, "bob@example.com", groups: [acmeStaff])
            let userID = try #require(a.user?.id)
            let listed = try await client.users.listUserAccountUsers(.init(userId: userID)).accountUsers
            #expect(listed.map(\.id) == [a.id, g.id, i.id].sorted())
            #expect(Dictionary(uniqueKeysWithValues: listed.map { ($0.accountId, $0.status) }) == [acme.id: .active, globex.id: .invited, initech.id: .disabled])
            #expect(listed.allSatisfy { $0.user?.id == userID && !$0.groups.isEmpty })
            await expectRPCError(.invalidArgument, "user_id") { try await client.users.listUserAccountUsers(.init(userId: "ada")) }
            await expectRPCError(.notFound) { try await client.users.listUserAccountUsers(.init(userId: "USR-0000-0000")) }
        }
    }
}
