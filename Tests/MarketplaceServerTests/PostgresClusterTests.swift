import Foundation
import MarketplaceTestSupport
import Testing

/// The private PostgreSQL of the test process (MarketplaceTestSupport's
/// `PostgresCluster`): started once, on a Unix socket in its own directory and
/// no TCP port, fsync on, one fresh database per test.
@Suite("A private PostgreSQL cluster for the tests", .postgresOnly)
struct PostgresClusterTests {
    @Test("one cluster per process, off TCP, fsync on, run by an unprivileged user, in a directory of its own")
    func cluster() async throws {
        let cluster = try await PostgresCluster.shared()
        #expect(try await PostgresCluster.shared() === cluster, "started once per test process")
        #expect(FileManager.default.fileExists(atPath: cluster.directory + "/.s.PGSQL.5432"), "socket in the cluster's directory")
        #expect(try await cluster.psql("SHOW listen_addresses") == "", "no TCP")
        #expect(try await cluster.psql("SHOW fsync") == "on")
        #expect(try await cluster.psql("SHOW unix_socket_directories") == cluster.directory)
        #expect(Int(try await cluster.psql("SHOW max_connections")) == PostgresCluster.maxConnections)
        let owner = try FileManager.default.attributesOfItem(atPath: cluster.directory + "/data")[.ownerAccountID] as? Int
        if getuid() == 0 { #expect(owner != 0, "the cluster is not run by root") }
        let pid = try String(contentsOfFile: cluster.directory + "/owner.pid", encoding: .utf8)
        #expect(pid.trimmingCharacters(in: .whitespacesAndNewlines) == "\(getpid())")
    }

    @Test("each test gets its own empty database, reachable by its URL, and dropping it removes it")
    func databases() async throws {
        let cluster = try await PostgresCluster.shared()
        let a = try await cluster.createDatabase(prefix: "cl")
        let b = try await cluster.createDatabase(prefix: "cl")
        #expect(a.name != b.name)
        #expect(a.url == "postgres://postgres@/\(a.name)?host=\(cluster.directory)&connect_timeout=60")
        try await a.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1)")
        #expect(try await a.psql("SELECT count(*) FROM t") == "1")
        #expect(try await b.psql("SELECT count(*) FROM pg_tables WHERE tablename = 't'") == "0", "databases are separate")
        try await a.drop()
        try await b.drop()
        let left = try await cluster.psql("SELECT count(*) FROM pg_database WHERE datname IN ('\(a.name)', '\(b.name)')")
        #expect(left == "0")
    }

    @Test("a cluster whose test process is gone is stopped and removed by the next start")
    func staleClusterIsRemoved() async throws {
        // A directory that looks like a crashed run's: an owner that has exited
        // and a "postmaster" (a sleeping shell) that must be stopped.
        let stale = try TemporaryDirectory(prefix: "mu-pg")
        defer { stale.remove() }
        let exited = try await runProcess("/bin/sh", ["-c", "echo $$"])
        try FileManager.default.createDirectory(atPath: stale.appending("data"), withIntermediateDirectories: true)
        // Started as the cluster's programs are: no inherited descriptor (a
        // sleeper holding the test's output pipe would keep `swift test`
        // waiting) and no signal blocked by the test runner's threads.
        let sleeper = try spawnWithoutInheritedDescriptors(["/bin/bash", "-c", "exec -a postgres /bin/sleep 600"], log: "/dev/null")
        var sleeperReaped = false
        try await waitUntilRunning(sleeper, named: "postgres")
        defer { if !sleeperReaped { kill(sleeper, SIGKILL) } }
        try "\(sleeper)\n\(stale.appending("data"))\n".write(
            toFile: stale.appending("data/postmaster.pid"), atomically: true, encoding: .utf8)
        // A recorded pid that is now another program's is never signalled.
        let bystander = try TemporaryDirectory(prefix: "mu-pg")
        defer { bystander.remove() }
        try FileManager.default.createDirectory(atPath: bystander.appending("data"), withIntermediateDirectories: true)
        let other = try spawnWithoutInheritedDescriptors(["/bin/sleep", "600"], log: "/dev/null")
        var otherReaped = false
        try await waitUntilRunning(other, named: "sleep")
        defer { if !otherReaped { kill(other, SIGKILL) } }
        try "\(other)\n".write(toFile: bystander.appending("data/postmaster.pid"), atomically: true, encoding: .utf8)
        // The owners last: a directory without one is being set up, and left alone
        // by clean-ups that other test processes may run meanwhile.
        try exited.stdout.write(toFile: stale.appending("owner.pid"), atomically: true, encoding: .utf8)
        try exited.stdout.write(toFile: bystander.appending("owner.pid"), atomically: true, encoding: .utf8)
        // A live owner's directory is left alone.
        let live = try TemporaryDirectory(prefix: "mu-pg")
        defer { live.remove() }
        try "\(getpid())\n".write(toFile: live.appending("owner.pid"), atomically: true, encoding: .utf8)

        PostgresCluster.removeStaleClusters()
        #expect(!FileManager.default.fileExists(atPath: stale.path), "stale cluster directory removed")
        #expect(FileManager.default.fileExists(atPath: live.path), "a running test process's cluster is kept")
        #expect(await waitForSpawned(sleeper) == 128 + SIGINT, "its postmaster was stopped (fast shutdown)")
        sleeperReaped = true
        #expect(PostgresCluster.isAlive(other), "a program that reused a stale postmaster's pid was signalled")
        #expect(!FileManager.default.fileExists(atPath: bystander.path))
        kill(other, SIGKILL)
        _ = await waitForSpawned(other)
        otherReaped = true
    }
}

/// Waits until `pid` runs `name` (the spawn's exec wrapper has exec'd it):
/// until then its command line is the wrapper's, which no clean-up signals.
private func waitUntilRunning(_ pid: pid_t, named name: String) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
        if command.split(separator: "\0").first?.split(separator: "/").last.map(String.init) == name { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw PostgresClusterError("process \(pid) did not start \(name)")
}
