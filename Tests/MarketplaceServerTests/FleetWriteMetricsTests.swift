import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// What an operator of a fleet sees of the write path on PostgreSQL
/// (docs/operations.md): write transactions run again after a serialization
/// failure (`marketplace_storage_write_retries_total`) and writes waiting for
/// a place (`marketplace_storage_writes_waiting`, `--database-write-concurrency`).
@Suite("Write metrics of 2 daemons on one PostgreSQL database", .postgresOnly, .serialized)
struct FleetWriteMetricsTests {
    @Test("conflicting accepts through two daemons are counted as write retries; nothing waits at rest")
    func retriesCounted() async throws {
        let directory = try TemporaryDirectory(prefix: "wmetrics")
        defer { directory.remove() }
        let storage = try await TestStorage.forDataDirectory(directory.appending("db"), backend: .postgres)
        let key = directory.appending("fleet.key")
        let made = try await runProcess(DaemonProcess.executable, ["keygen", "--key-file", key])
        try #require(made.status == 0, "\(made.stderr)")
        var daemons: [DaemonProcess] = []
        var metrics: [String] = []
        for name in ["a", "b"] {
            let socket = directory.appending("\(name)-metrics.sock")
            metrics.append(socket)
            daemons.append(try DaemonProcess(
                socketPath: directory.appending("\(name).sock"), dataDirectory: directory.appending(name),
                logPath: directory.appending("\(name).log"),
                arguments: storage.daemonArguments + ["--key-file", key, "--metrics-listen", socket, "--database-write-concurrency", "1"]))
        }
        defer {
            for daemon in daemons { daemon.signal(SIGKILL) }
        }
        for daemon in daemons { try #require(await daemon.waitUntilReady(), "\(daemon.log)") }
        let clients = daemons.map { MarketplaceClient(socketPath: $0.socketPath) }

        func scrape(_ metric: String) async throws -> [Double?] {
            var values: [Double?] = []
            for socket in metrics {
                let answer = try await curl("http://localhost/metrics", unixSocket: socket)
                values.append(sample(answer.body, metric))
            }
            return values
        }
        // Exported from the start, at 0.
        #expect(try await scrape("marketplace_storage_write_retries_total") == [0, 0])
        #expect(try await scrape("marketplace_storage_writes_waiting") == [0, 0])

        let f = Fixture(client: clients[0])
        let (acme, _, staff) = try await f.accountWithGroups()
        var retries = 0.0
        // Accepts of one invitation through both daemons conflict (one wins,
        // the others run again and find it accepted); a few rounds make sure
        // at least one pair overlapped.
        for round in 0..<10 where retries == 0 {
            let link = try await f.invite(acme, "retry-\(round)@example.com", groups: [staff]).invitationLink
            let codes = await withTaskGroup(of: StatusCode.self) { group in
                for i in 0..<8 {
                    let client = clients[i % 2]
                    group.addTask { await statusCode { try await Fixture(client: client).accept(link) } }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(codes.filter { $0 == .ok }.count == 1, "round \(round): \(codes)")
            retries = try await scrape("marketplace_storage_write_retries_total").compactMap { $0 }.reduce(0, +)
        }
        #expect(retries >= 1, "no write ran again in 10 rounds of 8 conflicting accepts")
        // With one writer per daemon the accepts queued; nothing waits once they are answered.
        #expect(try await scrape("marketplace_storage_writes_waiting") == [0, 0])

        for client in clients { await client.close() }
        for daemon in daemons {
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0, "\(daemon.log)")
        }
        await storage.remove()
    }
}
