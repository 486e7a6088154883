import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// The CLI as an operator uses it every day (issue 15): clean failures, its own
/// exit codes, whose identity is used, whoami, versions, XDG paths, tables
/// that fit the terminal, one hint per situation.
@Suite("CLI: operator ergonomics")
struct CLIOperatorTests {
    /// An active member with a login: invited and accepted through the client.
    private func member(_ client: MarketplaceClient, _ fixture: Fixture, _ email: String, group: String? = nil) async throws -> String {
        let invited = try await fixture.invite(client, email, group: group)
        _ = try await client.invitations.acceptInvitation(.init(
            token: token(of: invited.link), firstName: "Ada", lastName: "Lovelace", password: goodPassword, acceptTerms: true))
        return invited.id
    }

    @Test("sign-in without a terminal and without --password-stdin: one clean line, exit 64")
    func signInWithoutTerminal() async throws {
        try await withUsersServer { server, _ in
            let run = try await CLI(server)(["sign-in", "--email", "ada@example.com"])
            #expect(run.status == 64, "\(run.stderr)")
            #expect(run.stderr.contains("--password-stdin"), "\(run.stderr)")
            #expect(!run.stderr.contains("CLIFailure"), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        }
    }

    @Test("throttled sign-in exits 8 with the server's advice once, not 7")
    func throttledSignIn() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            _ = try await member(client, fixture, "ada@example.com")
            for _ in 0..<5 {
                let bad = try await cli(["sign-in", "--email", "ada@example.com", "--password-stdin"], stdin: "Wrong-pass-1!\n")
                #expect(bad.status == 4, "\(bad.stderr)")
            }
            let throttled = try await cli(["sign-in", "--email", "ada@example.com", "--password-stdin"], stdin: goodPassword + "\n")
            #expect(throttled.status == 8, "\(throttled.stderr)")
            #expect(throttled.stderr.contains("[RESOURCE_EXHAUSTED]"), "\(throttled.stderr)")
            #expect(!throttled.stderr.contains("wait before trying again"), "one hint: \(throttled.stderr)")
        }
    }

    @Test("a too-long socket path: a clean message without the start-the-server advice")
    func socketPathTooLong() async throws {
        let path = "/tmp/" + String(repeating: "x", count: 150) + ".sock"
        let run = try await CLI(socket: path)(["accounts", "list"])
        #expect(run.status == 7, "\(run.stderr)")
        #expect(run.stderr.contains("too long"), "\(run.stderr)")
        #expect(run.stderr.contains("shorter --socket"), "\(run.stderr)")
        #expect(!run.stderr.contains("start the server"), "\(run.stderr)")
        #expect(!run.stderr.contains("unixDomainSocketPathTooLong"), "\(run.stderr)")
    }

    @Test("a socket this Unix user may not open (EACCES): a clean message without the start-the-server advice")
    func socketPermissionDenied() async throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
        try await withUsersServer { server, _ in
            // A copy of the CLI that user nobody may run, and a socket in a directory only root may enter.
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            chmod(directory.path, 0o755)
            let binary = directory.appending("marketplace-users")
            try copyExecutable(from: CLI.path, to: binary)
            chmod((server.configuration.rpc.socketPath as NSString).deletingLastPathComponent, 0o700)
            let run = try await runProcess(
                "/usr/bin/setpriv",
                ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "accounts", "list", "--socket", server.configuration.rpc.socketPath],
                environment: ["MARKETPLACE_USERS_SESSION_FILE": directory.appending("none.json"), "HOME": directory.path])
            #expect(run.status == 7, "\(run.stderr)")
            #expect(run.stderr.contains("permission denied"), "\(run.stderr)")
            #expect(run.stderr.contains("ask for access"), "\(run.stderr)")
            #expect(!run.stderr.contains("start the server"), "\(run.stderr)")
            #expect(!run.stderr.contains("errno"), "\(run.stderr)")
        }
    }

    @Test("after sign-in an operator sees whose identity is used; whoami tells operator, user and account")
    func identity() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            _ = try await member(client, fixture, "ada@example.com", group: fixture.adminGroupID)
            let anonymous = try await cli(["whoami"])
            #expect(anonymous.status == 0 && anonymous.stdout.hasPrefix("Operator (Unix uid \(getuid()))"), "\(anonymous.stdout)")

            let signIn = try await cli(["sign-in", "--email", "ada@example.com", "--password-stdin"], stdin: goodPassword + "\n")
            #expect(signIn.status == 0, "\(signIn.stderr)")
            let me = try await cli(["whoami"])
            #expect(me.stdout.contains("Signed in as ada@example.com"), "\(me.stdout)")
            #expect(me.stdout.contains("Current account: Acme Ltd (\(fixture.accountID))"), "\(me.stdout)")
            #expect(me.stderr.contains("acting as ada@example.com"), "\(me.stderr)")
            let json = try await cli.json(["whoami"])
            #expect(json.string("kind") == "user" || json.string("kind") == "CALLER_KIND_USER" || json["kind"] != nil, "\(json)")

            // An operator command refused because of the session says so, and how to act as oneself.
            let refused = try await cli(["accounts", "list"])
            #expect(refused.status == 4)
            #expect(refused.stderr.contains("acting as ada@example.com"), "\(refused.stderr)")
            #expect(refused.stderr.contains("--no-session"), "\(refused.stderr)")
            #expect(!refused.stderr.contains("need a Unix user the server accepts as an operator"), "\(refused.stderr)")
            let asMe = try await cli(["whoami", "--no-session"])
            #expect(asMe.stdout.hasPrefix("Operator"), "\(asMe.stdout)")
        }
    }

    @Test("--version on both executables prints the release version")
    func versions() async throws {
        let cli = try await runProcess(CLI.path, ["--version"])
        #expect(cli.status == 0 && cli.stdout == "\(ClientVersion.current)\n", "\(cli.stdout) \(cli.stderr)")
        let daemon = try await runProcess(builtProductsDirectory + "/marketplace-usersd", ["--version"])
        #expect(daemon.status == 0 && daemon.stdout == "\(ServiceVersion.current)\n", "\(daemon.stdout) \(daemon.stderr)")
    }

    @Test("the session file follows $XDG_STATE_HOME, else $HOME/.local/state")
    func sessionFileLocation() async throws {
        try await withUsersServer { server, client in
            let fixture = try await Fixture.make(client)
            _ = try await member(client, fixture, "ada@example.com")
            let home = try TemporaryDirectory()
            defer { home.remove() }
            let socket = server.configuration.rpc.socketPath
            func run(_ arguments: [String], _ environment: [String: String], stdin: String = "") async throws -> ProcessResult {
                try await runProcess(
                    CLI.path, arguments + ["--socket", socket],
                    environment: ["MARKETPLACE_USERS_SESSION_FILE": "", "XDG_CONFIG_HOME": "", "XDG_STATE_HOME": ""].merging(environment) { $1 },
                    stdin: stdin)
            }
            let signIn = try await run(["sign-in", "--email", "ada@example.com", "--password-stdin"], ["HOME": home.path], stdin: goodPassword + "\n")
            #expect(signIn.status == 0, "\(signIn.stderr)")
            #expect(FileManager.default.fileExists(atPath: home.appending(".local/state/marketplace-users/session.json")))
            #expect(try await run(["sign-out"], ["HOME": home.path]).status == 0)

            let state = home.appending("state")
            let again = try await run(["sign-in", "--email", "ada@example.com", "--password-stdin"], ["HOME": home.path, "XDG_STATE_HOME": state], stdin: goodPassword + "\n")
            #expect(again.status == 0, "\(again.stderr)")
            #expect(FileManager.default.fileExists(atPath: state + "/marketplace-users/session.json"))
            #expect(!FileManager.default.fileExists(atPath: home.appending(".local/state/marketplace-users/session.json")))
        }
    }

    @Test("tables fit the terminal width by display width (wide characters count 2); --wide shows full values")
    func tableWidth() async throws {
        try await withUsersServer { server, client in
            let long = String(repeating: "Long", count: 25)  // 100 characters
            _ = try await client.accounts.createAccount(.init(name: long, type: .client))
            _ = try await client.accounts.createAccount(.init(name: "東京マーケット株式会社", type: .client))
            let socket = server.configuration.rpc.socketPath
            let environment = ["COLUMNS": "80", "MARKETPLACE_USERS_SESSION_FILE": CLI(server).sessionFile]
            let cut = try await runProcess(CLI.path, ["accounts", "list", "--socket", socket], environment: environment)
            #expect(cut.status == 0, "\(cut.stderr)")
            let lines = cut.stdout.split(separator: "\n").map(String.init)
            for line in lines { #expect(Self.displayWidth(line) <= 80, "\(Self.displayWidth(line)): \(line)") }
            #expect(cut.stdout.contains("…"), "\(cut.stdout)")
            // Columns stay aligned with wide characters: the column after the name starts at the same display column.
            let header = try #require(lines.first)
            let typeColumn = Self.displayWidth(String(header[..<header.range(of: "TYPE")!.lowerBound]))
            let cjk = try #require(lines.first { $0.contains("東京") })
            let cjkType = Self.displayWidth(String(cjk[..<cjk.range(of: "Client")!.lowerBound]))
            #expect(cjkType == typeColumn, "\(cut.stdout)")

            let wide = try await runProcess(CLI.path, ["accounts", "list", "--wide", "--socket", socket], environment: environment)
            #expect(wide.stdout.contains(long), "\(wide.stdout)")
        }
    }

    static func displayWidth(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { width, scalar in
            let v = scalar.value
            let wide = (0x3000...0x9FFF).contains(v) || (0xFF00...0xFF60).contains(v) || (0xAC00...0xD7A3).contains(v)
            return width + (wide ? 2 : 1)
        }
    }

    @Test("users groups --add with an unknown group points at the group list, not the member list")
    func unknownGroupHint() async throws {
        try await withUsersServer { server, client in
            let fixture = try await Fixture.make(client)
            let invited = try await fixture.invite(client, "ada@example.com")
            let run = try await CLI(server)(["users", "groups", invited.id, "--add", "UGR-9999-9999"])
            #expect(run.status == 3, "\(run.stderr)")
            #expect(run.stderr.contains("groups list --account"), "\(run.stderr)")
            #expect(!run.stderr.contains("users list"), "\(run.stderr)")
        }
    }

    @Test("users groups --add and --remove from two processes at once both take effect")
    func concurrentGroupEdits() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            var extra: [String] = []
            for name in ["Support", "Finance", "Legal", "Ops"] {
                extra.append(try await client.groups.createGroup(.init(accountId: fixture.accountID, name: name)).requiredGroup.id)
            }
            let invited = try await fixture.invite(client, "ada@example.com")
            try await withThrowingTaskGroup(of: ProcessResult.self) { group in
                for id in extra { group.addTask { try await cli(["users", "groups", invited.id, "--add", id]) } }
                for try await run in group { #expect(run.status == 0, "\(run.stderr)") }
            }
            let member = try await client.accountUsers.getAccountUser(.init(accountUserId: invited.id)).requiredAccountUser
            #expect(Set(member.groups.map(\.id)) == Set(extra + [fixture.salesGroupID]))
            let removed = try await cli(["users", "groups", invited.id, "--remove", fixture.salesGroupID, "--json"])
            #expect(removed.status == 0, "\(removed.stderr)")
        }
    }

    @Test("users block on a blocked member is a no-op success")
    func blockTwice() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let id = try await member(client, fixture, "ada@example.com")
            #expect(try await cli(["users", "block", id, "--yes"]).status == 0)
            let again = try await cli(["users", "block", id, "--yes"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdout.contains("Blocked"), "\(again.stdout)")
            let events = try await client.audit.listAuditEvents(.init(accountId: fixture.accountID)).events
            #expect(events.filter { $0.action.contains("blocked") }.count == 1, "\(events.map(\.action))")
        }
    }

    @Test("accept prints the account's name; show on an accepted link does not say what accepting needs")
    func acceptAndShow() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let invited = try await fixture.invite(client, "ada@example.com")
            let before = try await cli(["invitations", "show", token(of: invited.link)])
            #expect(before.stdout.contains("Accepting needs"), "\(before.stdout)")
            let accept = try await cli(
                ["invitations", "accept", token(of: invited.link), "--first-name", "Ada", "--last-name", "Lovelace", "--accept-terms", "--password-stdin"],
                stdin: goodPassword + "\n")
            #expect(accept.status == 0, "\(accept.stderr)")
            #expect(accept.stdout.contains("Acme Ltd (\(fixture.accountID))"), "\(accept.stdout)")
            let after = try await cli(["invitations", "show", token(of: invited.link)])
            #expect(after.status == 0, "\(after.stderr)")
            #expect(!after.stdout.contains("Accepting needs"), "\(after.stdout)")
        }
    }

    @Test("a refused invitation link gives the administrator advice once")
    func oneHint() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let invited = try await fixture.invite(client, "ada@example.com")
            _ = try await client.accountUsers.revokeInvitation(.init(accountUserId: invited.id))
            let run = try await cli(
                ["invitations", "accept", token(of: invited.link), "--first-name", "Ada", "--last-name", "L", "--accept-terms", "--password-stdin"],
                stdin: goodPassword + "\n")
            #expect(run.status != 0)
            let count = run.stderr.components(separatedBy: "ask the account administrator").count - 1
            #expect(count <= 1, "\(run.stderr)")
        }
    }
}
