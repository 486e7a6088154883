import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// One line on stderr, and a distinct exit code per kind of failure.
@Suite("CLI: errors and exit codes")
struct CLIErrorTests {
    @Test("each error class has its exit code and a one-line message that says what to do")
    func exitCodes() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let (memberID, _) = try await fixture.invite(client, "grace@example.com")

            // 3: not found, with a hint.
            let missing = try await cli(["accounts", "show", "ACC-0000-0001"])
            #expect(missing.status == 3)
            #expect(missing.stdout.isEmpty)
            #expect(missing.stderr.contains("accounts list"), "\(missing.stderr)")
            #expect(missing.stderr.contains("[NOT_FOUND]"))

            // 5: conflict (already a member), naming what to look at.
            let duplicate = try await cli([
                "users", "invite", "--account", fixture.accountID, "--email", "grace@example.com",
                "--first-name", "Grace", "--last-name", "Hopper", "--group", fixture.salesGroupID,
            ])
            #expect(duplicate.status == 5)
            #expect(duplicate.stderr.contains("users list --account \(fixture.accountID)"), "\(duplicate.stderr)")

            // 5: precondition: blocking someone who has not joined.
            let block = try await cli(["users", "block", memberID, "--yes"])
            #expect(block.status == 5, "\(block.stderr)")
            #expect(block.stderr.contains("only an Active member can be blocked"), "\(block.stderr)")

            // 6: the server rejects a value.
            let badEmail = try await cli([
                "users", "invite", "--account", fixture.accountID, "--email", "not-an-email",
                "--first-name", "X", "--last-name", "Y", "--group", fixture.salesGroupID,
            ])
            #expect(badEmail.status == 6, "\(badEmail.stderr)")
            #expect(badEmail.stderr.contains("email"))

            // 64: usage errors caught before any call.
            let badID = try await cli(["accounts", "show", "ACC-12"])
            #expect(badID.status == 64)
            #expect(badID.stderr.contains("ACC-1234-5678"), "\(badID.stderr)")
            let noGroup = try await cli(["users", "invite", "--account", fixture.accountID, "--email", "a@example.com", "--first-name", "A", "--last-name", "B"])
            #expect(noGroup.status == 64)
            #expect(noGroup.stderr.contains("--group"), "\(noGroup.stderr)")
            let badPhone = try await cli([
                "users", "invite", "--account", fixture.accountID, "--email", "a@example.com", "--first-name", "A",
                "--last-name", "B", "--group", fixture.salesGroupID, "--phone", "0123",
            ])
            #expect(badPhone.status == 64)
            let noTerms = try await cli(["invitations", "accept", "tok", "--first-name", "A", "--last-name", "B", "--password-stdin"])
            #expect(noTerms.status == 64)
            #expect(noTerms.stderr.contains("--accept-terms"))
            let pageSize = try await cli(["accounts", "list", "--page-size", "501"])
            #expect(pageSize.status == 64)
            let unknownFlag = try await cli(["accounts", "list", "--bogus"])
            #expect(unknownFlag.status == 64)

            // Without a terminal or --password-stdin, accept refuses to guess.
            let noPassword = try await cli(["invitations", "accept", "tok", "--first-name", "A", "--last-name", "B", "--accept-terms"])
            #expect(noPassword.status == 64)
            #expect(noPassword.stderr.contains("--password-stdin"), "\(noPassword.stderr)")
        }
    }

    @Test("a missing socket exits 7 for every kind of command and names the path it tried")
    func socketMissing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("absent.sock")
        let cli = CLI(socket: path)
        for arguments in [["accounts", "list"], ["users", "list", "--account", "ACC-1234-5678", "--json"], ["outbox", "list"]] {
            let run = try await cli(arguments)
            #expect(run.status == 7, "\(arguments)")
            #expect(run.stdout.isEmpty)
            #expect(run.stderr.contains(path), "\(run.stderr)")
            #expect(run.stderr.contains("is the server running?"), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        }
    }

    @Test("destructive commands refuse without --yes when stdin is not a terminal, and change nothing")
    func confirmationRefused() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let (memberID, _) = try await fixture.invite(client, "linus@example.com")
            let userID = try #require(try await client.accountUsers.getAccountUser(.init(accountUserId: memberID)).accountUser?.user?.id)
            for arguments in [
                ["users", "remove", memberID], ["users", "block", memberID], ["invitations", "revoke", memberID],
                ["users", "delete", userID],
            ] {
                let run = try await cli(arguments, stdin: "y\n")
                #expect(run.status == 64, "\(arguments): \(run.stderr)")
                #expect(run.stderr.contains("pass --yes"), "\(run.stderr)")
                #expect(run.stdout.isEmpty)
            }
            let member = try await client.accountUsers.getAccountUser(.init(accountUserId: memberID)).accountUser
            #expect(member?.status == .invited)

            let deleted = try await cli.json(["users", "delete", userID, "-y"])
            #expect(deleted.string("status") == "USER_STATUS_DELETED")
            // Revoking the invitation of someone who never had a login forgets the
            // user it made (issue 10 item 4: contract changed from DISABLED).
            let (otherID, _) = try await fixture.invite(client, "grace@example.com")
            let revoked = try await cli.json(["invitations", "revoke", otherID, "--yes"])
            #expect(revoked.string("status") == "MEMBERSHIP_STATUS_DELETED")
        }
    }
}
