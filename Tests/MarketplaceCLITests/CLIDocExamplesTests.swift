import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// The `call` and `whoami` examples of docs/cli.md, run as written (through
/// /bin/sh, with the built CLI first on PATH) against a real server.
@Suite("docs/cli.md examples")
struct CLIDocExamplesTests {
    @Test("every line of the `call` section's example block runs and exits 0")
    func callSection() async throws {
        let doc = try String(contentsOfFile: repositoryRoot + "/docs/cli.md", encoding: .utf8)
        let section = try #require(doc.range(of: "## Calling any method: `call`"))
        let rest = doc[section.upperBound...]
        let open = try #require(rest.range(of: "```sh\n"))
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        let lines = rest[open.upperBound..<close.lowerBound].split(separator: "\n").map(String.init)
        #expect(lines.count >= 5)
        try await withUsersServer { server, _ in
            let cli = CLI(server)
            for line in lines {
                let run = try await runProcess(
                    "/bin/sh", ["-c", line],
                    environment: [
                        "PATH": builtProductsDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                        "MARKETPLACE_USERS_SOCKET": server.configuration.rpc.socketPath,
                        "MARKETPLACE_USERS_SESSION_FILE": cli.sessionFile,
                    ])
                #expect(run.status == 0, "\(line): \(run.stderr)")
                #expect(!run.stdout.isEmpty, "\(line)")
            }
        }
    }

    @Test("the whoami examples of the Connecting section run")
    func whoamiExamples() async throws {
        try await withUsersServer { server, _ in
            let cli = CLI(server)
            let me = try await cli(["whoami"])
            #expect(me.stdout.hasPrefix("Operator (Unix uid \(getuid())): every method, every account."), "\(me.stdout)")
            let plain = try await cli(["whoami", "--no-session"])
            #expect(plain.status == 0)
        }
    }
}
