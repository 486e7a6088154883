import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// The operator's walk-through from the README, from the CLI alone.
@Suite("CLI: walk-through")
struct CLIWalkthroughTests {
    @Test("create account and groups, invite, copy link, show, accept, list, change groups, remove, re-invite")
    func walkthrough() async throws {
        try await withUsersServer { server, _ in
            let cli = CLI(server)

            // Account and its groups.
            let account = try await cli.json(["accounts", "create", "Acme Ltd", "--type", "client"])
            let accountID = try #require(account.string("id"))
            #expect(account.string("type") == "ACCOUNT_TYPE_CLIENT")
            #expect(account.string("status") == "ACCOUNT_STATUS_ACTIVE")
            let admins = try await cli.json(["groups", "create", "--account", accountID, "Administrators", "--administrators", "--permission", "users.manage"])
            let adminsID = try #require(admins.string("id"))
            #expect(admins["isAdministrators"] as? Bool == true)
            let sales = try await cli.json(["groups", "create", "--account", accountID, "Sales"])
            let salesID = try #require(sales.string("id"))

            // Invite: the table view shows the link at once.
            let invite = try await cli([
                "users", "invite", "--account", accountID, "--email", "Ada@Example.com", "--first-name", "Ada",
                "--last-name", "Lovelace", "--phone", "+44 20 7123 4567", "--group", adminsID,
            ])
            #expect(invite.status == 0, "\(invite.stderr)")
            #expect(invite.stdout.contains("Invitation link:"), "\(invite.stdout)")
            #expect(invite.stdout.contains("Invitation expires in 7 days"), "\(invite.stdout)")
            let members = try await cli.json(["users", "list", "--account", accountID])
            let member = try #require(members.objects("accountUsers").first)
            let memberID = try #require(member.string("id"))
            #expect(member.string("status") == "MEMBERSHIP_STATUS_INVITED")
            #expect(member.object("user")?.string("email") == "ada@example.com")

            // Copy the link: stdout is the link alone.
            let link = try await cli(["invitations", "link", memberID])
            #expect(link.status == 0, "\(link.stderr)")
            let url = link.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(url.hasPrefix("https://") && !url.contains("\n"), "\(link.stdout)")
            #expect(link.stderr.contains("Invitation expires in"))

            // Show it as the invitee sees it, by the whole link.
            let show = try await cli(["invitations", "show", url])
            #expect(show.status == 0, "\(show.stderr)")
            #expect(show.stdout.contains("Acme Ltd (\(accountID))"), "\(show.stdout)")
            #expect(show.stdout.contains("ada@example.com"))
            #expect(show.stdout.contains("Invitation expires in"))
            let view = try await cli.json(["invitations", "show", url])
            #expect(view.string("state") == "INVITATION_STATE_PENDING")
            #expect(view["hasLogin"] as? Bool == false)

            // Accept, the password on stdin.
            let accepted = try await cli.json(
                ["invitations", "accept", token(of: url), "--first-name", "Ada", "--last-name", "Lovelace",
                 "--accept-terms", "--password-stdin"],
                stdin: goodPassword + "\n")
            #expect(accepted.string("status") == "MEMBERSHIP_STATUS_ACTIVE")
            #expect(accepted.string("joinedAt") != nil)

            // The link is used now: accepting again is a conflict (exit 5).
            let again = try await cli(
                ["invitations", "accept", url, "--first-name", "Ada", "--last-name", "Lovelace", "--accept-terms", "--password-stdin"],
                stdin: goodPassword + "\n")
            #expect(again.status == 5, "\(again.stderr)")

            // List: a table with the member, active.
            let list = try await cli(["users", "list", "--account", accountID])
            #expect(list.status == 0, "\(list.stderr)")
            let lines = list.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("ID ") == true, "\(list.stdout)")
            #expect(lines.count == 2)
            #expect(lines.last?.contains("Ada Lovelace") == true && lines.last?.contains("Active") == true, "\(list.stdout)")

            // Change groups: add Sales, then remove Administrators.
            let changed = try await cli.json(["users", "groups", memberID, "--add", salesID, "--remove", adminsID])
            #expect((changed["groups"] as? [[String: Any]])?.compactMap { $0.string("id") } == [salesID])
            let groupsTable = try await cli(["users", "groups", memberID])
            #expect(groupsTable.stdout.contains("Sales") && !groupsTable.stdout.contains("Administrators"), "\(groupsTable.stdout)")
            // The last group cannot be removed: the server refuses (the edit is its own step there).
            let last = try await cli(["users", "groups", memberID, "--remove", salesID])
            #expect(last.status == 5)
            #expect(last.stderr.contains("at least one group"), "\(last.stderr)")

            // Remove (confirmed with --yes), then re-invite.
            let removed = try await cli.json(["users", "remove", memberID, "--yes"])
            #expect(removed.string("status") == "MEMBERSHIP_STATUS_DISABLED")
            let removedAgain = try await cli(["users", "remove", memberID, "--yes"])
            #expect(removedAgain.status == 5, "\(removedAgain.stderr)")
            let reinvited = try await cli.json([
                "users", "invite", "--account", accountID, "--email", "ada@example.com", "--first-name", "Ada",
                "--last-name", "Lovelace", "--group", salesID,
            ])
            #expect(reinvited.object("accountUser")?.string("status") == "MEMBERSHIP_STATUS_INVITED")
            #expect(reinvited.string("invitationLink")?.hasPrefix("https://") == true)

            // She has a login now: accepting with a wrong password is refused (exit 4).
            let wrong = try await cli(
                ["invitations", "accept", try #require(reinvited.string("invitationLink")), "--first-name", "Ada",
                 "--last-name", "Lovelace", "--accept-terms", "--password-stdin"],
                stdin: "Wrong-Password-1\n")
            #expect(wrong.status == 4, "\(wrong.stderr)")
            #expect(wrong.stderr.contains("current password"), "\(wrong.stderr)")

            // The audit trail and the outbox saw it all.
            let audit = try await cli.json(["audit", "list", "--account", accountID, "--all"])
            #expect(audit.objects("events").count >= 5)
            let outbox = try await cli.json(["outbox", "list", "--limit", "500"])
            let ids = outbox.objects("messages").compactMap { $0.string("id") }
            // The removal and the re-invitation (the accepted link's email was withdrawn on accept).
            #expect(ids.count >= 2)
            let acked = try await cli.json(["outbox", "ack"] + ids)
            #expect(acked["marked"] as? Int == ids.count)
        }
    }

    @Test("after expiry: resend and link say to renew; renew sends a new link that works")
    func renewAfterExpiry() async throws {
        try await withUsersServer(configure: { $0.invitationTTL = .seconds(1) }) { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let (memberID, oldLink) = try await fixture.invite(client, "late@example.com")
            try await Task.sleep(for: .milliseconds(1_300))

            let show = try await cli(["users", "show", memberID])
            #expect(show.stdout.contains("Invitation expired"), "\(show.stdout)")
            let resend = try await cli(["invitations", "resend", memberID])
            #expect(resend.status == 5)
            #expect(resend.stderr.contains("cannot resend"), "\(resend.stderr)")
            #expect(resend.stderr.contains("marketplace-users invitations renew \(memberID)"), "\(resend.stderr)")
            #expect(resend.stderr.split(separator: "\n").count == 1)
            let link = try await cli(["invitations", "link", memberID])
            #expect(link.status == 5)
            #expect(link.stderr.contains("invitations renew \(memberID)"), "\(link.stderr)")

            let renewed = try await cli.json(["invitations", "renew", memberID])
            let newLink = try #require(renewed.string("invitationLink"))
            #expect(newLink != oldLink)
            let old = try await cli.json(["invitations", "show", oldLink])
            #expect(old.string("state") == "INVITATION_STATE_REPLACED")
        }
    }
}
