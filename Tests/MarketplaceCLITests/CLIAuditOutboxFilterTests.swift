import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// The audit filters and outbox paging of issue 11, from the CLI with --json.
@Suite("CLI: audit filters and outbox paging")
struct CLIAuditOutboxFilterTests {
    @Test("audit list --action/--actor/--since/--until and outbox list --limit --all, as JSON")
    func filtersAndPaging() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let account = try #require(try await client.accounts.createAccount(.init(name: "Acme", type: .client)).account)
            let staff = try #require(try await client.groups.createGroup(.init(accountId: account.id, name: "Staff")).group)
            var members: [String] = []
            for i in 0..<3 {
                members.append(try #require(try await client.accountUsers.inviteUser(.init(
                    accountId: account.id, email: "u\(i)@example.com", firstName: "U", lastName: "\(i)", groupIds: [staff.id])).accountUser?.id))
            }
            _ = try await client.accountUsers.revokeInvitation(.init(accountUserId: members[0]))

            let invited = try await cli.json(["audit", "list", "--account", account.id, "--action", "account_user.invited", "--actor", "operator:\(getuid())"])
            #expect(invited.objects("events").compactMap { $0.string("targetId") } == members.reversed())
            let revoked = try await cli.json(["audit", "list", "--account", account.id, "--action", "invitation.revoked"])
            #expect(revoked.objects("events").compactMap { $0.string("targetId") } == [members[0]])
            let future = try await cli.json(["audit", "list", "--account", account.id, "--since", "2999-01-01T00:00:00Z"])
            #expect(future.objects("events").isEmpty)
            let past = try await cli.json(["audit", "list", "--account", account.id, "--until", "2000-01-01T00:00:00Z"])
            #expect(past.objects("events").isEmpty)
            let unknown = try await cli(["audit", "list", "--account", account.id, "--action", "nothing.happened"])
            #expect(unknown.status != 0 && unknown.stderr.contains("action"), "\(unknown.stderr)")
            let badTime = try await cli(["audit", "list", "--account", account.id, "--since", "yesterday"])
            #expect(badTime.status != 0 && badTime.stderr.contains("--since"), "\(badTime.stderr)")

            // Two pending invitations (the revoked one's email was withdrawn): one per page.
            let first = try await cli.json(["outbox", "list", "--limit", "1"])
            #expect(first.objects("messages").count == 1)
            let token = try #require(first.string("nextPageToken"))
            let second = try await cli.json(["outbox", "list", "--limit", "1", "--page-token", token])
            #expect(second.objects("messages").count == 1)
            #expect(second.objects("messages").first?.string("id") != first.objects("messages").first?.string("id"))
            let all = try await cli.json(["outbox", "list", "--limit", "1", "--all"])
            #expect(all.objects("messages").compactMap { $0.string("accountUserId") } == [members[1], members[2]])
        }
    }

    @Test("users show USR lists the user's memberships; --memberships --json gives them to scripts")
    func memberships() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            var memberIDs: [String] = []
            var userID = ""
            for name in ["Acme", "Globex"] {
                let account = try #require(try await client.accounts.createAccount(.init(name: name, type: .client)).account)
                let staff = try #require(try await client.groups.createGroup(.init(accountId: account.id, name: "Staff")).group)
                let member = try #require(try await client.accountUsers.inviteUser(.init(
                    accountId: account.id, email: "ada@example.com", firstName: "Ada", lastName: "L", groupIds: [staff.id])).accountUser)
                memberIDs.append(member.id)
                userID = member.user?.id ?? ""
            }
            let text = try await cli(["users", "show", userID])
            #expect(text.status == 0 && text.stdout.contains("Memberships:"), "\(text.stderr)")
            #expect(memberIDs.allSatisfy { text.stdout.contains($0) }, "\(text.stdout)")
            let json = try await cli.json(["users", "show", userID, "--memberships"])
            #expect((json["user"] as? [String: Any])?["id"] as? String == userID)
            #expect(json.objects("accountUsers").compactMap { $0.string("id") } == memberIDs.sorted())
            let plain = try await cli.json(["users", "show", userID])
            #expect(plain.string("id") == userID)
        }
    }
}
