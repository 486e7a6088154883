import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

@Suite("Group edits as server-side operations (AddAccountUserGroups, RemoveAccountUserGroups)")
struct GroupEditTests {
    @Test("many administrators adding and removing groups of one member at once: every edit takes effect")
    func concurrentEdits() async throws {
        try await withUsersServer { _, client in
            let fixture = Fixture(client: client)
            let (account, admins, staff) = try await fixture.accountWithGroups()
            var added: [Group] = []
            for i in 0..<12 { added.append(try await fixture.group(account, "Team \(i)", admin: false)) }
            let member = try await fixture.invite(account, "ada@example.com", groups: [staff, admins]).requiredAccountUser
            try await withThrowingTaskGroup(of: Void.self) { group in
                for g in added {
                    group.addTask {
                        _ = try await client.accountUsers.addAccountUserGroups(.init(accountUserId: member.id, groupIds: [g.id]))
                    }
                }
                group.addTask {
                    _ = try await client.accountUsers.removeAccountUserGroups(.init(accountUserId: member.id, groupIds: [admins.id]))
                }
                try await group.waitForAll()
            }
            let after = try await client.accountUsers.getAccountUser(.init(accountUserId: member.id)).requiredAccountUser
            #expect(Set(after.groups.map(\.id)) == Set(added.map(\.id) + [staff.id]))
        }
    }

    @Test("adding a held group or removing one not held changes nothing; the last group cannot go; bad input is precise")
    func rules() async throws {
        try await withUsersServer { _, client in
            let fixture = Fixture(client: client)
            let (account, admins, staff) = try await fixture.accountWithGroups()
            let (other, otherAdmins, _) = try await fixture.accountWithGroups("Globex")
            _ = other
            let member = try await fixture.invite(account, "ada@example.com", groups: [staff]).requiredAccountUser
            let same = try await client.accountUsers.addAccountUserGroups(.init(accountUserId: member.id, groupIds: [staff.id]))
            #expect(try same.requiredAccountUser.groups.map(\.id) == [staff.id])
            let none = try await client.accountUsers.removeAccountUserGroups(.init(accountUserId: member.id, groupIds: [admins.id]))
            #expect(try none.requiredAccountUser.groups.map(\.id) == [staff.id])
            await expectRPCError(.failedPrecondition, "at least one") {
                try await client.accountUsers.removeAccountUserGroups(.init(accountUserId: member.id, groupIds: [staff.id]))
            }
            await expectRPCError(.invalidArgument, "group_ids") {
                try await client.accountUsers.addAccountUserGroups(.init(accountUserId: member.id, groupIds: []))
            }
            await expectRPCError(.notFound, "not found in account") {
                try await client.accountUsers.addAccountUserGroups(.init(accountUserId: member.id, groupIds: [otherAdmins.id]))
            }
            await expectRPCError(.notFound, "UGR-9999-9999") {
                try await client.accountUsers.addAccountUserGroups(.init(accountUserId: member.id, groupIds: ["UGR-9999-9999"]))
            }
            let unchanged = try await client.accountUsers.getAccountUser(.init(accountUserId: member.id)).requiredAccountUser
            #expect(unchanged.groups.map(\.id) == [staff.id])
        }
    }
}
