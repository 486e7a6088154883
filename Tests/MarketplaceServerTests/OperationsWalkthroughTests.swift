import Foundation
import MarketplaceTestSupport
import Testing

extension DaemonOperationsTests {
    /// docs/operations.md's "Trying it from a clone", run as written: the unit's
    /// command line under systemd-socket-activate and a notify socket, SIGHUP,
    /// a metrics scrape, a backup while invites are written, a restore served
    /// by a second daemon, and the stop.
    @Suite("docs/operations.md: trying it from a clone, as written", .serialized)
    struct OperationsWalkthroughTests {
        /// The shell block that starts with `# try-it-from-a-clone`.
        static func walkthrough() throws -> String {
            let doc = try String(contentsOfFile: repositoryRoot + "/docs/operations.md", encoding: .utf8)
            let start = try #require(doc.range(of: "```sh\n# try-it-from-a-clone\n"), "the walk-through is gone from docs/operations.md")
            let end = try #require(doc.range(of: "\n```", range: start.upperBound..<doc.endIndex))
            return String(doc[start.upperBound..<end.lowerBound])
        }

        @Test(
            "the walk-through runs: READY/STOPPING on the notify socket, SIGHUP, a scrape, backup under writes, restore",
            .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-socket-activate"), "needs systemd-socket-activate"),
            // KNOWN ISSUE: run from the test process, the script completes but
            // Foundation's Process never reports the exit (the `timeout` child
            // stays a zombie); the same script passes by hand in ~20 s.
            // Enable with MARKETPLACE_TEST_WALKTHROUGH=1 while this is debugged.
            .enabled(if: ProcessInfo.processInfo.environment["MARKETPLACE_TEST_WALKTHROUGH"] == "1", "hangs under swift test (known issue)"))
        func walkthroughRuns() async throws {
            let script = try Self.walkthrough()
            let sessions = try TemporaryDirectory(prefix: "walk")
            defer { sessions.remove() }
            // On failure, nothing the script started in the background survives it.
            let guarded = "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + script
            let run = try await runProcess(
                "/usr/bin/timeout", ["--kill-after=10", "300", "/bin/bash", "-euo", "pipefail", "-c", guarded],
                environment: [
                    "BIN": builtProductsDirectory,
                    "MARKETPLACE_USERS_SESSION_FILE": sessions.appending("session.json"),
                    "MARKETPLACE_USERS_SOCKET": "",
                ],
                currentDirectory: repositoryRoot)
            let out = run.stdout
            #expect(run.status == 0, "the walk-through failed (\(run.status)):\n\(out)\n\(run.stderr)")
            #expect(out.contains("SERVING"), "\(out)")
            #expect(out.contains("READY=1") && out.contains("STATUS=serving on "), "\(out)")
            #expect(out.contains("marketplace_rpc_calls_total{"), "\(out)")
            #expect(out.contains("ada@example.com"), "the restored invitation: \(out)")
            #expect(out.contains("STOPPING=1"), "\(out)")
            #expect(out.contains("stopped: received SIGTERM"), "\(out)")
        }
    }
}
