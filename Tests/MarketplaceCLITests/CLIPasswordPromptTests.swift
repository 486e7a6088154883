import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// The CLI's password prompts on a real terminal: the CLI runs on a
/// pseudo-terminal driven by Tests/Terminal/pty-dialogue.py (python3's pty
/// module), which waits for each prompt, waits for echo to go off, then types.
@Suite("CLI: passwords typed at a terminal")
struct CLIPasswordPromptTests {
    static let driver = repositoryRoot + "/Tests/Terminal/pty-dialogue.py"

    /// What the driver saw: the CLI's exit status and everything it wrote to the terminal.
    struct Dialogue {
        let status: Int
        let transcript: String
        let error: String?
    }

    /// Runs the CLI with `arguments` on a terminal, playing `steps` (`--expect TEXT`, `--type TEXT`).
    static func dialogue(_ cli: CLI, _ arguments: [String], steps: [String]) async throws -> Dialogue {
        let run = try await runProcess(
            "/usr/bin/python3", [driver, "--timeout", "90"] + steps + ["--", CLI.path] + arguments + ["--socket", cli.socket],
            environment: ["TZ": "UTC", "MARKETPLACE_USERS_SOCKET": "", "MARKETPLACE_USERS_SESSION_FILE": cli.sessionFile])
        try #require(run.status == 0, "pty-dialogue.py failed: \(run.stderr)")
        let object = try parseJSON(run.stdout)
        return Dialogue(
            status: (object["status"] as? NSNumber)?.intValue ?? -1000,
            transcript: object.string("transcript") ?? "", error: object["error"] as? String)
    }

    /// Whether signing in with `password` is refused as UNAUTHENTICATED.
    static func signInRefused(_ client: MarketplaceClient, _ email: String, _ password: String) async -> Bool {
        do {
            _ = try await client.sessions.signIn(.init(email: email, password: password))
            return false
        } catch {
            return error.code == .unauthenticated
        }
    }

    static let accept = ["invitations", "accept"]
    static let names = ["--first-name", "Ada", "--last-name", "Lovelace", "--accept-terms"]

    @Test("two different passwords: the CLI says so and asks again; the password typed twice then signs in")
    func mismatchAsksAgain() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let acme = try await Fixture.make(client)
            let invited = try await acme.invite(client, "ada@example.com")
            let typo = "Correct-Horse-8"
            let seen = try await Self.dialogue(cli, Self.accept + [token(of: invited.link)] + Self.names, steps: [
                "--expect", "Password for ada@example.com", "--type", goodPassword,
                "--expect", "Type it again: ", "--type", typo,
                "--expect", "The two passwords differ; try again.",
                "--expect", "Password for ada@example.com", "--type", goodPassword,
                "--expect", "Type it again: ", "--type", goodPassword,
                "--expect", "Welcome, Ada!",
            ])
            #expect(seen.error == nil, "\(seen.error ?? ""): \(seen.transcript)")
            #expect(seen.status == 0, "\(seen.transcript)")
            #expect(seen.transcript.contains("You are now a member of Acme Ltd"), "\(seen.transcript)")
            // Typed without echo: neither password ever reached the screen.
            #expect(!seen.transcript.contains(goodPassword) && !seen.transcript.contains(typo), "\(seen.transcript)")
            // Asked exactly twice for each.
            #expect(seen.transcript.components(separatedBy: "Type it again: ").count - 1 == 2, "\(seen.transcript)")

            // The password typed twice is the one set: it signs in, the typo does not.
            let session = try await client.sessions.signIn(.init(email: "ada@example.com", password: goodPassword))
            #expect(!session.token.isEmpty)
            #expect(await Self.signInRefused(client, "ada@example.com", typo))
            let signIn = try await cli(["sign-in", "--email", "ada@example.com", "--password-stdin"], stdin: goodPassword + "\n")
            #expect(signIn.status == 0, "\(signIn.stderr)")
        }
    }

    @Test("three mismatches: exit 64, nothing changed (the invitation is still pending, no login)")
    func threeMismatchesChangeNothing() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let acme = try await Fixture.make(client)
            let invited = try await acme.invite(client, "bob@example.com")
            var steps: [String] = []
            for attempt in 1...3 {
                steps += ["--expect", "Password for bob@example.com", "--type", goodPassword,
                          "--expect", "Type it again: ", "--type", "Other-Horse-\(attempt)"]
                if attempt < 3 { steps += ["--expect", "The two passwords differ; try again."] }
            }
            steps += ["--expect", "did not match; nothing was changed"]
            let seen = try await Self.dialogue(cli, Self.accept + [token(of: invited.link)] + Self.names, steps: steps)
            #expect(seen.error == nil, "\(seen.error ?? ""): \(seen.transcript)")
            #expect(seen.status == 64, "\(seen.transcript)")
            #expect(seen.transcript.components(separatedBy: "The two passwords differ").count - 1 == 2, "\(seen.transcript)")
            let view = try #require(try await client.invitations.showInvitation(.init(token: token(of: invited.link))).invitation)
            #expect(view.state == .pending)
            #expect(await Self.signInRefused(client, "bob@example.com", goodPassword))
        }
    }
}
