import Foundation
import Synchronization

/// A private PostgreSQL cluster for one test process (docs/testing.md,
/// /work/shared/docs/postgres.md): `initdb` into a fresh directory under /tmp
/// owned by an unprivileged user (`postgres`, else `nobody`; initdb refuses
/// root), the server on a Unix socket in that directory and on no TCP port, so
/// that Debian's default cluster and other test processes are never touched.
///
/// The one cluster of the project's tests. ``shared()`` starts the test
/// process's cluster on first use; each test takes its own database from
/// ``createDatabase(prefix:)``. Tests that stop the server (outages) start a
/// cluster of their own with ``start()`` and remove it with ``destroy()``.
/// Every program of a cluster (initdb, pg_ctl, the postmaster pg_ctl leaves
/// running, the watchdog) is started without any descriptor of the test
/// process (``spawnWithoutInheritedDescriptors(_:log:currentDirectory:)``).
/// Clusters still running are stopped and their directories removed when the
/// test process exits (`atexit`); a watchdog process does the same if the
/// test process dies without exiting (a crash, SIGKILL), and the next start
/// removes any cluster whose owner is gone (`owner.pid`, and the server's
/// `data/postmaster.pid`).
/// `fsync` stays on: the crash tests kill daemons, never the database, but
/// what a daemon had acknowledged must be on disk all the same.
public final class PostgresCluster: Sendable {
    /// The cluster's directory: `data/` (the cluster), `server.log`,
    /// `tool.log` (initdb's and pg_ctl's output), the socket `.s.PGSQL.5432`
    /// and `owner.pid` (the test process).
    public let directory: String
    /// The server binaries (`initdb`, `pg_ctl`, `psql`, ...).
    public let binDirectory: String
    /// The user the server runs as (nil: the current user).
    private let user: String?
    private let databaseCounter = Mutex(0)

    /// Room for many servers of parallel tests, each with its own pool, and
    /// for the fleet tests' daemons.
    public static let maxConnections = 1000

    /// Directory names under /tmp start with this (stale ones are found by it).
    static let prefix = "mu-pg"

    private init(directory: String, binDirectory: String, user: String?) {
        self.directory = directory
        self.binDirectory = binDirectory
        self.user = user
    }

    /// The cluster of this test process, started on first call.
    public static func shared() async throws -> PostgresCluster {
        try await starting.value
    }

    private static let starting = Task { try await PostgresCluster.start() }

    /// A fresh, empty database with a unique name; its URL in libpq's
    /// Unix-socket form, `postgres://postgres@/NAME?host=DIR`.
    public func createDatabase(prefix: String = "t") async throws -> PostgresTestDatabase {
        let number = databaseCounter.withLock { $0 += 1; return $0 }
        let name = "\(prefix)_\(getpid())_\(number)"
        try await psql("CREATE DATABASE \(name)")
        return PostgresTestDatabase(cluster: self, name: name)
    }

    /// Removes a database, closing its connections first.
    public func dropDatabase(_ name: String) async throws {
        try await psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs `sql` with `psql` (stopping at the first error) on `database`;
    /// its output, unaligned, tuples only, one row a line, `|` between columns.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        let result = try await runProcess(binDirectory + "/psql", [
            "-h", directory, "-U", "postgres", "-d", database, "-X", "-q", "-A", "-t",
            "-v", "ON_ERROR_STOP=1", "-c", sql,
        ])
        guard result.status == 0 else {
            throw PostgresClusterError("psql failed (\(result.status)) on \(database): \(result.stderr)")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The server's log so far (for failure messages).
    public var serverLog: String {
        (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
    }

    // MARK: Starting and stopping

    /// A new cluster of its own, started: for tests that stop its server
    /// (``stopServer()``, ``startServer()``). Remove it with ``destroy()``;
    /// if a test forgets, the test process's exit does.
    public static func start() async throws -> PostgresCluster {
        let bin = try findBinDirectory()
        removeStaleClusters()
        let directory = try TemporaryDirectory(prefix: prefix).path
        try "\(getpid())\n".write(toFile: directory + "/owner.pid", atomically: true, encoding: .utf8)
        let runAs = try unprivilegedUser()
        if let runAs {
            guard chown(directory, runAs.uid, runAs.gid) == 0 else {
                throw PostgresClusterError("chown \(directory) to \(runAs.name) failed: errno \(errno)")
            }
        }
        // Registered before anything runs in the directory, so that it is
        // removed even when initdb or the start fails.
        registerForCleanUp(directory: directory, bin: bin, user: runAs?.name)
        let cluster = PostgresCluster(directory: directory, binDirectory: bin, user: runAs?.name)
        try await cluster.run("initdb", [
            "-D", directory + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
        ])
        try await cluster.startServer()
        return cluster
    }

    /// Starts the server (`pg_ctl start`, waiting until it accepts connections).
    public func startServer() async throws {
        try await run("pg_ctl", [
            "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "120",
            "-o", "-c listen_addresses='' -k \(directory) -c max_connections=\(Self.maxConnections) -c fsync=on",
            "start",
        ])
    }

    /// Stops the server (fast shutdown: open connections are closed).
    public func stopServer() async throws {
        try await run("pg_ctl", ["-D", directory + "/data", "-m", "fast", "-w", "-t", "120", "stop"])
    }

    /// Stops the server and removes the cluster (never the shared one's job:
    /// the test process's exit does that).
    public func destroy() async {
        try? await stopServer()
        Self.stopAndRemove(directory: directory)
        _ = runningClusters.withLock { $0.remove(directory) }
    }

    /// Runs a server program of `binDirectory` as the cluster's user, to its
    /// end, its output into `tool.log`.
    private func run(_ program: String, _ arguments: [String]) async throws {
        let executable = binDirectory + "/" + program
        // runuser keeps the working directory, which the user must be able to enter: "/".
        let argv = (user.map { ["/usr/sbin/runuser", "-u", $0, "--"] } ?? []) + [executable] + arguments
        let log = directory + "/tool.log"
        let status = try await runWithoutInheritedDescriptors(argv, log: log)
        guard status == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw PostgresClusterError(
                "\(program) \(arguments.joined(separator: " ")) failed (\(status)): \(output.suffix(3000))\n\(serverLog.suffix(2000))")
        }
    }

    /// Whether the server binaries are installed (suites that need a
    /// PostgreSQL whatever the tests' backend skip themselves otherwise).
    public static let isInstalled = (try? findBinDirectory()) != nil

    /// Why such a suite was skipped.
    public static let notInstalled =
        "PostgreSQL server binaries not found (pg_config --bindir, /usr/lib/postgresql/*/bin): install Debian's postgresql package"

    /// `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin with
    /// an initdb.
    static func findBinDirectory() throws -> String {
        let fm = FileManager.default
        let candidates = ["/usr/bin/pg_config", "/usr/local/bin/pg_config"].filter { fm.isExecutableFile(atPath: $0) }
        for pgConfig in candidates {
            let probe = try runToCompletion([pgConfig, "--bindir"])
            let bin = probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if probe.status == 0, fm.isExecutableFile(atPath: bin + "/initdb") { return bin }
        }
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions where fm.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/initdb") {
            return "/usr/lib/postgresql/\(version)/bin"
        }
        throw PostgresClusterError(
            "PostgreSQL server binaries not found (pg_config --bindir, /usr/lib/postgresql/*/bin): install Debian's `postgresql` package")
    }

    /// As root: `postgres` if that user exists, else `nobody`. Otherwise
    /// nil: the binaries run as the current user.
    private static func unprivilegedUser() throws -> (name: String, uid: uid_t, gid: gid_t)? {
        guard geteuid() == 0 else { return nil }
        for name in ["postgres", "nobody"] {
            if let entry = getpwnam(name) { return (name, entry.pointee.pw_uid, entry.pointee.pw_gid) }
        }
        throw PostgresClusterError("neither user postgres nor nobody exists to run PostgreSQL as")
    }

    /// Stops the cluster at process exit (`atexit`), and starts a watchdog
    /// that stops it if this process dies without exiting.
    private static func registerForCleanUp(directory: String, bin: String, user: String?) {
        _ = runningClusters.withLock { $0.insert(directory) }
        _ = stopAtExitRegistration
        let owner = getpid()
        let stop = user.map { "/usr/sbin/runuser -u \($0) -- " } ?? ""
        // Polls once a second whether the test process is still alive.
        let script = """
            while kill -0 \(owner) 2>/dev/null; do sleep 1; done
            [ -d '\(directory)' ] || exit 0
            \(stop)'\(bin)/pg_ctl' -D '\(directory)/data' -m immediate -w -t 30 stop >/dev/null 2>&1
            rm -rf '\(directory)'
            """
        // Never waited for: it ends after this process, and is reaped by whoever adopts it.
        _ = try? spawnWithoutInheritedDescriptors(["/bin/sh", "-c", script], log: "/dev/null")
    }

    /// At exit no task may run: each postmaster still running is stopped by
    /// a signal (fast shutdown), waited for, and its directory removed.
    fileprivate static func stopAtExit() {
        for directory in runningClusters.withLock({ $0 }) { stopAndRemove(directory: directory) }
    }

    private static func stopAndRemove(directory: String) {
        stopPostmaster(dataDirectory: directory + "/data")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Sends SIGINT (fast shutdown) to the postmaster of `dataDirectory`, waits
    /// up to 30 s for it to exit, then SIGKILLs it. Nothing happens when the
    /// pid of `postmaster.pid` is now another program's.
    static func stopPostmaster(dataDirectory: String) {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let first = text.split(separator: "\n").first, let pid = pid_t(first), pid > 0,
            let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
            command.split(separator: "\0").first?.split(separator: "/").last == "postgres"
        else { return }
        kill(pid, SIGINT)
        for _ in 0..<3000 {
            if !isAlive(pid) { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
    }

    /// Whether `pid` runs: it exists and is not a zombie (an orphaned
    /// postmaster is reaped by whoever adopted it, maybe late).
    public static func isAlive(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return !stat[close...].hasPrefix(") Z")
    }

    /// Removes the clusters of test processes that are gone (killed before
    /// their watchdog could act, or a machine reboot), stopping their server.
    public static func removeStaleClusters() {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: "/tmp")) ?? [] where name.hasPrefix(prefix + "-") {
            let path = "/tmp/" + name
            guard let text = try? String(contentsOfFile: path + "/owner.pid", encoding: .utf8),
                let owner = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { continue }  // being set up right now, or not ours
            if isAlive(owner) { continue }
            stopPostmaster(dataDirectory: path + "/data")
            try? fm.removeItem(atPath: path)
        }
    }
}

/// The directories of the clusters this process started and has not destroyed.
private let runningClusters = Mutex<Set<String>>([])
/// Registers ``PostgresCluster/stopAtExit()`` once, on first use.
private let stopAtExitRegistration: Void = { atexit { PostgresCluster.stopAtExit() } }()

/// One test's database in the shared cluster.
public struct PostgresTestDatabase: Sendable {
    public let cluster: PostgresCluster
    public let name: String

    /// libpq's Unix-socket form, as `--database` takes it. Hundreds of tests
    /// open connections at once on a loaded 2-core machine: one may wait for
    /// the server longer than the default 5 s (a daemon or `migrate-to` under
    /// test failed so), hence `connect_timeout`.
    public var url: String {
        "postgres://postgres@/\(name)?host=\(cluster.directory)&connect_timeout=\(Int(TestStorage.connectTimeout.components.seconds))"
    }

    /// Runs `sql` on this database with `psql`; its output (see ``PostgresCluster/psql(_:database:)``).
    @discardableResult
    public func psql(_ sql: String) async throws -> String {
        try await cluster.psql(sql, database: name)
    }

    /// The whole database as SQL text (`pg_dump`: schema, then every row).
    public func dump() async throws -> String {
        let result = try await runProcess(cluster.binDirectory + "/pg_dump", [
            "-h", cluster.directory, "-U", "postgres", "-d", name, "--no-owner",
        ])
        guard result.status == 0 else {
            throw PostgresClusterError("pg_dump failed (\(result.status)) on \(name): \(result.stderr)")
        }
        return result.stdout
    }

    /// Removes the database.
    public func drop() async throws {
        try await cluster.dropDatabase(name)
    }
}

public struct PostgresClusterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
