import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// The change feed across a fleet: a `ListChanges` waiting on one daemon is
/// woken by a change committed through another daemon on the same
/// PostgreSQL database (changes.proto: "waits until one is committed"), also
/// after the waiting daemon's listening connection was cut.
@Suite("Changes/ListChanges across 2 daemons on one PostgreSQL database", .postgresOnly, .serialized)
struct FleetChangeFeedTests {
    /// Two daemons (A writes, B waits, with a metrics socket) on one database and one key.
    final class Pair: Sendable {
        let directory: TemporaryDirectory
        let storage: TestStorage
        let a: DaemonProcess
        let b: DaemonProcess
        let metrics: String

        init() async throws {
            directory = try TemporaryDirectory(prefix: "feed")
            storage = try await TestStorage.forDataDirectory(directory.appending("db"), backend: .postgres)
            let key = directory.appending("fleet.key")
            let made = try await runProcess(DaemonProcess.executable, ["keygen", "--key-file", key])
            try #require(made.status == 0, "\(made.stderr)")
            metrics = directory.appending("b-metrics.sock")
            a = try DaemonProcess(
                socketPath: directory.appending("a.sock"), dataDirectory: directory.appending("a"), logPath: directory.appending("a.log"),
                arguments: storage.daemonArguments + ["--key-file", key])
            b = try DaemonProcess(
                socketPath: directory.appending("b.sock"), dataDirectory: directory.appending("b"), logPath: directory.appending("b.log"),
                arguments: storage.daemonArguments + ["--key-file", key, "--metrics-listen", metrics])
            try #require(await a.waitUntilReady(seconds: 60), "\(a.log)")
            try #require(await b.waitUntilReady(seconds: 60), "\(b.log)")
        }

        /// Calls running in daemon B now (its metrics endpoint).
        func callsInFlightOnB() async -> Double {
            guard let scrape = try? await curl("http://localhost/metrics", unixSocket: metrics) else { return 0 }
            return sample(scrape.body, "marketplace_rpc_calls_in_flight") ?? 0
        }

        func stop() async throws {
            for daemon in [a, b] {
                daemon.signal(SIGTERM)
                #expect(await daemon.waitForExit() == 0, "\(daemon.log)")
            }
            try await storage.database?.drop()
            directory.remove()
        }
    }

    /// Starts a 30 s ListChanges on B after the head, waits (by B's metrics,
    /// never by sleeping) until B is serving it, disables `account` through A,
    /// and returns B's answer and the time from A's commit to B's answer.
    private func waitOnBWriteOnA(_ pair: Pair, account: Account, enable: Bool) async throws -> (ListChangesResponse, Duration) {
        let a = MarketplaceClient(socketPath: pair.a.socketPath)
        let b = MarketplaceClient(socketPath: pair.b.socketPath)
        let head = try await b.changes.listChanges(.init(fromHead: true)).position
        let waiting = Task {
            try await b.changes.listChanges(.init(afterPosition: head, waitSeconds: 30), options: CallOptions(timeout: .seconds(60)))
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while await pair.callsInFlightOnB() < 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))  // polling a condition, not ordering by time
        }
        #expect(await pair.callsInFlightOnB() >= 1, "B never showed the waiting call in flight")
        if enable {
            _ = try await a.accounts.enableAccount(.init(accountId: account.id))
        } else {
            _ = try await a.accounts.disableAccount(.init(accountId: account.id))
        }
        let committed = ContinuousClock.now
        let answer = try await waiting.value
        return (answer, ContinuousClock.now - committed)
    }

    @Test("A waiter on B returns the change committed through A well before its 30 s, also after B's listener was cut")
    func waiterOnOtherDaemonWakes() async throws {
        let pair = try await Pair()
        do {
            try await waiterOnOtherDaemonWakes(pair)
        } catch {
            // CI once saw A close a connection mid-call: say what the daemons did.
            Issue.record(error, "\(pair.a.diagnosis())\n\(pair.b.diagnosis())")
        }
        try await pair.stop()
    }

    private func waiterOnOtherDaemonWakes(_ pair: Pair) async throws {
        let a = MarketplaceClient(socketPath: pair.a.socketPath)
        let account = try #require(try await a.accounts.createAccount(.init(name: "Acme", type: .client)).account)

        let (first, firstDelay) = try await waitOnBWriteOnA(pair, account: account, enable: false)
        #expect(first.changes.map(\.kind) == [.accountStatus], "\(first)")
        #expect(first.changes.first?.accountId == account.id)
        #expect(firstDelay < .seconds(10), "B answered \(firstDelay) after A's commit: woken only by its wait's end")

        // Cut B's listening connection (as a database restart or a network
        // failure would): B listens again and still wakes.
        let database = try #require(pair.storage.database)
        let listeners = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'marketplace-usersd changes' AND datname = current_database()"
        #expect(try await database.psql(listeners) == "2", "one listener per daemon")
        let cut = try await database.psql("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'marketplace-usersd changes' AND datname = current_database()
            """)
        #expect(cut.split(separator: "\n").count == 2, "\(cut)")
        let deadline = ContinuousClock.now + .seconds(20)
        while try await database.psql(listeners) != "2", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))  // polling a condition
        }
        #expect(try await database.psql(listeners) == "2", "the listeners did not come back")
        let (second, secondDelay) = try await waitOnBWriteOnA(pair, account: account, enable: true)
        #expect(second.changes.map(\.kind) == [.accountStatus], "\(second)")
        #expect(secondDelay < .seconds(10), "after reconnecting, B answered \(secondDelay) after A's commit")
    }
}
