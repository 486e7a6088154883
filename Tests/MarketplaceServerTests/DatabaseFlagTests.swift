import MarketplaceTestSupport
import Testing

/// The daemon's PostgreSQL tuning flags are refused, naming the flag, where
/// they cannot apply (checked before anything is opened).
@Suite("marketplace-usersd: database flags")
struct DatabaseFlagTests {
    static let url = "postgres://nobody@/nowhere?host=/nonexistent"

    @Test("--database-write-concurrency: 1 to the pool size, and only with --database (as --database-pool-size)")
    func writeConcurrency() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let base = ["--socket", directory.appending("s.sock"), "--data-dir", directory.appending("data")]
        let cases: [([String], String)] = [
            (["--database-pool-size", "3"], "--database-pool-size is only used with --database (PostgreSQL)"),
            (["--database-write-concurrency", "2"], "--database-write-concurrency is only used with --database (PostgreSQL)"),
            (["--database", Self.url, "--database-pool-size", "2", "--database-write-concurrency", "3"],
             "--database-write-concurrency must be between 1 and the pool size (2)"),
            (["--database", Self.url, "--database-write-concurrency", "0"],
             "--database-write-concurrency must be between 1 and the pool size (10)"),
        ]
        for (arguments, message) in cases {
            let run = try await runProcess(DaemonProcess.executable, base + arguments)
            #expect(run.status != 0, "\(arguments)")
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
        // The environment variable is named when it is the source.
        let fromEnvironment = try await runProcess(
            DaemonProcess.executable, base, environment: ["MARKETPLACE_USERS_DATABASE_WRITE_CONCURRENCY": "2"])
        #expect(fromEnvironment.status != 0)
        #expect(fromEnvironment.stderr.contains("MARKETPLACE_USERS_DATABASE_WRITE_CONCURRENCY is only used with --database"), "\(fromEnvironment.stderr)")
    }
}
