import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// `accounts rename|disable|enable` and `groups update|delete`, as subprocesses
/// against a real server, with and without --json.
@Suite("CLI: account and group administration")
struct CLIAdministrationTests {
    @Test("accounts rename, disable (idempotent), enable, with --json")
    func accounts() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let renamed = try await cli.json(["accounts", "rename", fixture.accountID, "Acme Group"])
            #expect(renamed.string("name") == "Acme Group" && renamed.string("id") == fixture.accountID)
            let disabled = try await cli.json(["accounts", "disable", fixture.accountID, "--yes"])
            #expect(disabled.string("status") == "ACCOUNT_STATUS_DISABLED", "\(disabled)")
            let again = try await cli(["accounts", "disable", fixture.accountID, "--yes"])
            #expect(again.status == 0 && again.stdout.contains("Disabled"), "\(again.stdout) \(again.stderr)")
            // Without --yes and without a terminal: refused, nothing changes.
            _ = try await client.accounts.enableAccount(.init(accountId: fixture.accountID))
            let unconfirmed = try await cli(["accounts", "disable", fixture.accountID])
            #expect(unconfirmed.status == 64 && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")
            #expect(try await client.accounts.getAccount(.init(accountId: fixture.accountID)).account?.status == .active)
            _ = try await client.accounts.disableAccount(.init(accountId: fixture.accountID))
            let enabled = try await cli.json(["accounts", "enable", fixture.accountID])
            #expect(enabled.string("status") == "ACCOUNT_STATUS_ACTIVE", "\(enabled)")
            let missing = try await cli(["accounts", "rename", "ACC-0000-0000", "X"])
            #expect(missing.status == 3 && missing.stderr.contains("[NOT_FOUND]"), "\(missing.stderr)")
            let malformed = try await cli(["accounts", "enable", "acme"])
            #expect(malformed.status == 64, "\(malformed.stderr)")
        }
    }

    @Test("groups update changes only what is given; groups delete refuses with exit 5, then deletes")
    func groups() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let updated = try await cli.json(["groups", "update", fixture.salesGroupID, "--name", "Sales EU", "--permission", "orders.view"])
            #expect(updated.string("name") == "Sales EU")
            #expect(updated["permissions"] as? [String] == ["orders.view"])
            let described = try await cli.json(["groups", "update", fixture.salesGroupID, "--description", "Europe"])
            #expect(described.string("name") == "Sales EU" && described.string("description") == "Europe")
            #expect(described["permissions"] as? [String] == ["orders.view"])
            let cleared = try await cli.json(["groups", "update", fixture.salesGroupID, "--clear-permissions"])
            #expect((cleared["permissions"] as? [String] ?? []).isEmpty)
            let nothing = try await cli(["groups", "update", fixture.salesGroupID])
            #expect(nothing.status == 64 && nothing.stderr.contains("nothing to change"), "\(nothing.stderr)")
            let taken = try await cli(["groups", "update", fixture.salesGroupID, "--name", "administrators"])
            #expect(taken.status == 5 && taken.stderr.contains("[ALREADY_EXISTS]"), "\(taken.stderr)")

            let member = try await fixture.invite(client, "ada@example.com")
            let refused = try await cli(["groups", "delete", fixture.salesGroupID, "--yes"])
            #expect(refused.status == 5 && refused.stderr.contains("only group of 1 member"), "\(refused.stderr)")
            #expect(refused.stderr.contains("users list --account"), "a hint: \(refused.stderr)")
            let admins = try await cli(["groups", "delete", fixture.adminGroupID, "--yes"])
            #expect(admins.status == 5 && admins.stderr.contains("administrators"), "\(admins.stderr)")
            _ = try await client.accountUsers.addAccountUserGroups(.init(accountUserId: member.id, groupIds: [fixture.adminGroupID]))
            let deleted = try await cli.json(["groups", "delete", fixture.salesGroupID, "--yes"])
            #expect(deleted["deleted"] as? Bool == true && deleted.string("groupId") == fixture.salesGroupID, "\(deleted)")
            let gone = try await cli(["groups", "show", fixture.salesGroupID])
            #expect(gone.status == 3, "\(gone.stderr)")
        }
    }
}
