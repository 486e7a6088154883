import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// Tables and detail views for people; JSON with stable names for scripts; paging.
@Suite("CLI: output and paging")
struct CLIOutputTests {
    @Test("accounts: aligned table, detail view, JSON field names, one page with a hint, --all")
    func accounts() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            var ids: [String] = []
            for name in ["Acme Ltd", "Widgets Inc", "Globex"] {
                ids.append(try #require(try await client.accounts.createAccount(.init(name: name, type: .vendor)).account).id)
            }

            let table = try await cli(["accounts", "list"])
            #expect(table.status == 0, "\(table.stderr)")
            let lines = table.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 4)
            #expect(lines[0].hasPrefix("ID             NAME"), "\(table.stdout)")
            // Columns are aligned: every row has its name where the header has NAME.
            let nameColumn = try #require(lines[0].range(of: "NAME")).lowerBound.utf16Offset(in: lines[0])
            for line in lines.dropFirst() {
                let characters = Array(line)
                #expect(characters[nameColumn - 1] == " " && characters[nameColumn] != " ", "\(line)")
                #expect(line.contains("Vendor") && line.contains("Active") && (line.contains(" UTC") || line.contains(" GMT")), "\(line)")
            }

            let detail = try await cli(["accounts", "show", ids[0]])
            #expect(detail.stdout.contains("Account:  \(ids[0])\n"), "\(detail.stdout)")
            #expect(detail.stdout.contains("Name:     Acme Ltd\n"), "\(detail.stdout)")

            let one = try await cli.json(["accounts", "show", ids[1]])
            #expect(Set(one.keys) == ["id", "name", "type", "status", "createdAt"])
            #expect(one.string("createdAt")?.hasSuffix("Z") == true)

            // One page and a hint for the next (on stderr); then --all.
            let page = try await cli(["accounts", "list", "--page-size", "2"])
            #expect(page.stdout.split(separator: "\n").count == 3)
            #expect(page.stderr.contains("--page-token"), "\(page.stderr)")
            #expect(page.stderr.contains("--all"))
            let pageJSON = try await cli.json(["accounts", "list", "--page-size", "2"])
            let token = try #require(pageJSON.string("nextPageToken"))
            #expect(!token.isEmpty)
            let rest = try await cli.json(["accounts", "list", "--page-size", "2", "--page-token", token])
            #expect(rest.objects("accounts").count == 1)
            #expect(rest.string("nextPageToken") == "")
            let all = try await cli.json(["accounts", "list", "--page-size", "1", "--all"])
            #expect(all.objects("accounts").compactMap { $0.string("id") }.sorted() == ids.sorted())
            #expect(all.string("nextPageToken") == "")
            let allTable = try await cli(["accounts", "list", "--page-size", "1", "--all"])
            #expect(allTable.stdout.split(separator: "\n").count == 4)
            #expect(!allTable.stderr.contains("--page-token"))
        }
    }

    @Test("every read command's --json parses with python3 -m json.tool")
    func jsonEverywhere() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let (memberID, link) = try await fixture.invite(client, "json@example.com")
            let userID = try #require(try await client.users.findUserByEmail(.init(email: "json@example.com")).user?.id)
            let commands: [[String]] = [
                ["health"], ["accounts", "list"], ["accounts", "show", fixture.accountID],
                ["groups", "list", "--account", fixture.accountID], ["groups", "show", fixture.adminGroupID],
                ["users", "list"], ["users", "list", "--account", fixture.accountID, "--status", "invited", "--query", "json"],
                ["users", "show", memberID], ["users", "show", userID], ["users", "find", "JSON@example.com"],
                ["users", "groups", memberID], ["invitations", "link", memberID], ["invitations", "show", link],
                ["invitations", "resend", memberID], ["audit", "list", "--account", fixture.accountID], ["outbox", "list"],
            ]
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            for command in commands {
                let run = try await cli(command + ["--json"])
                #expect(run.status == 0, "\(command): \(run.stderr)")
                let file = directory.appending("out.json")
                try run.stdout.write(toFile: file, atomically: true, encoding: .utf8)
                let check = try await runProcess("/usr/bin/env", ["python3", "-m", "json.tool", file])
                #expect(check.status == 0, "\(command): \(check.stderr)\n\(run.stdout)")
            }
            let member = try await cli.json(["users", "show", memberID])
            for key in ["id", "accountId", "user", "status", "groups", "invitedAt", "invitationExpiresAt", "invitedBy"] {
                #expect(member[key] != nil, "missing \(key)")
            }
            let linkJSON = try await cli.json(["invitations", "link", memberID])
            #expect(Set(linkJSON.keys) == ["accountUserId", "invitationLink", "expiresAt"])
        }
    }

    @Test("account users table: joined or invitation state, groups summary, status spelled out")
    func accountUsersTable() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let (memberID, _) = try await fixture.invite(client, "zed@example.com")
            _ = try await client.accountUsers.updateAccountUserGroups(.init(accountUserId: memberID, groupIds: [fixture.salesGroupID, fixture.adminGroupID]))
            let run = try await cli(["users", "list", "--account", fixture.accountID])
            #expect(run.status == 0, "\(run.stderr)")
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines[0].contains("JOINED") && lines[0].contains("LAST SIGN-IN") && lines[0].contains("GROUPS"), "\(run.stdout)")
            #expect(lines[1].contains("invited") && lines[1].contains("2 groups") && lines[1].contains("never"), "\(run.stdout)")
            #expect(lines[1].contains("Invitation expires in"), "\(run.stdout)")
            let none = try await cli(["users", "list", "--account", fixture.accountID, "--status", "blocked"])
            #expect(none.stdout == "No users match.\n")
        }
    }
}
