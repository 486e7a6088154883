import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

@Suite("CLI: access check and changes follow")
struct CLIAccessTests {
    @Test("access check prints the answer as details or JSON; a refusal exits 0 with its reason")
    func accessCheck() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let acme = try await Fixture.make(client)
            let invited = try await acme.invite(client, "ada@example.com", group: acme.adminGroupID)
            _ = try await client.invitations.acceptInvitation(.init(
                token: token(of: invited.link), firstName: "Ada", lastName: "Lovelace", password: goodPassword, acceptTerms: true))
            let session = try await client.sessions.signIn(.init(email: "ada@example.com", password: goodPassword)).token

            let text = try await cli(["access", "check", "--token", session, "--permission", "users.manage"])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("Allowed:"), "\(text.stdout)")
            #expect(text.stdout.contains("yes"), "\(text.stdout)")
            #expect(text.stdout.contains("Administrators"), "\(text.stdout)")

            let json = try await cli.json(["access", "check", "--token", session, "--account", acme.accountID, "--permission", "billing.pay"])
            #expect(json["allowed"] as? Bool != true)
            #expect(json.string("accountUserId") == invited.id)
            #expect((json["missingPermissions"] as? [String]) == ["billing.pay"])

            let bad = try await cli(["access", "check", "--token", session, "--account", "nope"])
            #expect(bad.status != 0)
            #expect(bad.stderr.contains("--account"), "\(bad.stderr)")
        }
    }

    @Test("changes follow prints changes as JSON lines, in order")
    func changesFollow() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let acme = try await Fixture.make(client)
            let invited = try await acme.invite(client, "ada@example.com")
            let run = try await cli(["changes", "follow", "--after", "0", "--count", "2", "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2, "\(run.stdout)")
            let changes = try lines.map { try parseJSON($0) }
            #expect(changes.allSatisfy { $0.string("accountUserId") == invited.id }, "\(run.stdout)")
            let positions = changes.compactMap { ($0["position"] as? NSNumber)?.int64Value ?? $0.string("position").flatMap { Int64($0) } }
            #expect(positions.count == 2 && positions[0] < positions[1], "\(run.stdout)")

            let text = try await cli(["changes", "follow", "--after", "0", "--count", "1"])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("membership"), "\(text.stdout)")
        }
    }
}
