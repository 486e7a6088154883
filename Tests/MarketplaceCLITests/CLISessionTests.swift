import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

@Suite("CLI: a person signs in, uses their profile and accounts, and signs out")
struct CLISessionTests {
    @Test("sign-in keeps a 0600 session; commands act as the person; switch-account; password; sign-out")
    func personFlow() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let acme = try await Fixture.make(client, name: "Acme")
            let globex = try await Fixture.make(client, name: "Globex")
            for (fixture, group) in [(acme, acme.adminGroupID), (globex, globex.salesGroupID)] {
                let invited = try await fixture.invite(client, "ada@example.com", group: group)
                _ = try await client.invitations.acceptInvitation(.init(
                    token: token(of: invited.link), firstName: "Ada", lastName: "Lovelace", password: goodPassword, acceptTerms: true))
            }

            let bad = try await cli(["sign-in", "--email", "ada@example.com", "--password-stdin"], stdin: "Wrong-pass-1!\n")
            #expect(bad.status == 4)
            #expect(bad.stderr.contains("email or password is incorrect"), "\(bad.stderr)")
            #expect(!FileManager.default.fileExists(atPath: cli.sessionFile))

            let signIn = try await cli(["sign-in", "--email", "ada@example.com", "--password-stdin"], stdin: goodPassword + "\n")
            #expect(signIn.status == 0, "\(signIn.stderr)")
            #expect(signIn.stdout.hasPrefix("Signed in as ada@example.com"))
            let attributes = try FileManager.default.attributesOfItem(atPath: cli.sessionFile)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let savedToken = try #require(try Self.savedToken(cli.sessionFile))
            #expect(!signIn.stdout.contains(savedToken), "the token is never printed")

            // Acting as Ada: operator-only commands are now refused; --no-session acts as the operator again.
            let asAda = try await cli(["accounts", "list"])
            #expect(asAda.status == 4, "\(asAda.stdout) \(asAda.stderr)")
            #expect(try await cli(["accounts", "list", "--no-session"]).status == 0)

            let profile = try await cli.json(["profile", "show"])
            #expect(profile.string("email") == "ada@example.com")
            let updated = try await cli.json(["profile", "update", "--first-name", "Augusta", "--language", "fr"])
            #expect(updated.string("firstName") == "Augusta" && updated.string("language") == "fr")

            // Switch between the two accounts: administrator in Acme only.
            let mine = try await cli(["switch-account"])
            #expect(mine.stdout.contains("Acme") && mine.stdout.contains("Globex") && mine.stdout.contains("administrator"))
            #expect(try await cli(["switch-account", acme.accountID]).status == 0)
            #expect(try await cli(["users", "list", "--account", acme.accountID]).status == 0)
            #expect(try await cli(["switch-account", globex.accountID]).status == 0)
            let refused = try await cli(["users", "list", "--account", globex.accountID])
            #expect(refused.status == 4)
            #expect(refused.stderr.contains("administrators' group"), "\(refused.stderr)")

            let weak = try await cli(["profile", "password", "--password-stdin"], stdin: "\(goodPassword)\nweakpass\n")
            #expect(weak.status == 6)
            let changed = try await cli(["profile", "password", "--password-stdin"], stdin: "\(goodPassword)\nN3w!password\n")
            #expect(changed.status == 0, "\(changed.stderr)")

            let out = try await cli(["sign-out"])
            #expect(out.status == 0 && out.stdout == "Signed out.\n", "\(out.stderr)")
            #expect(!FileManager.default.fileExists(atPath: cli.sessionFile))
            #expect(try await cli(["profile", "show"]).status == 4)
        }
    }

    @Test("sign-out on another socket leaves that socket's session alone")
    func signOutOtherSocket() async throws {
        try await withUsersServer { server, _ in
            let cli = CLI(server)
            let contents = #"{"email":"x@example.com","socket":"/elsewhere/other.sock","token":"ses_t"}"#
            #expect(FileManager.default.createFile(atPath: cli.sessionFile, contents: Data(contents.utf8), attributes: [.posixPermissions: 0o600]))
            let run = try await cli(["sign-out"])
            #expect(run.status == 0)
            #expect(run.stdout.hasPrefix("Not signed in on "), "\(run.stdout)")
            #expect(FileManager.default.fileExists(atPath: cli.sessionFile))
        }
    }

    @Test("a session file others can read is refused")
    func looseSessionFile() async throws {
        try await withUsersServer { server, _ in
            let cli = CLI(server)
            let contents = #"{"email":"x@example.com","socket":"\#(SessionPaths.absolute(cli.socket))","token":"t"}"#
            #expect(FileManager.default.createFile(atPath: cli.sessionFile, contents: Data(contents.utf8), attributes: [.posixPermissions: 0o644]))
            let run = try await cli(["profile", "show"])
            #expect(run.status == 4)
            #expect(run.stderr.contains("can be read by others"), "\(run.stderr)")
        }
    }

    private static func savedToken(_ path: String) throws -> String? {
        let data = try #require(FileManager.default.contents(atPath: path))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["token"] as? String
    }
}

private enum SessionPaths {
    static func absolute(_ socket: String) -> String { URL(fileURLWithPath: socket).standardizedFileURL.path }
}
