import Foundation
import MarketplaceTestSupport
import Synchronization
import Testing

/// A private PostgreSQL cluster for these tests (/work/shared/docs/postgres.md):
/// `initdb` into a temporary directory as an unprivileged user, the server on
/// a Unix socket in that directory, no TCP port. Unlike the shared cluster of
/// other suites, it can be stopped and started again (the outage tests), so
/// those tests each take their own.
final class TestCluster: Sendable {
    let directory: TemporaryDirectory
    let bin: String
    private let user: String?
    private let counter = Mutex(0)

    /// The PostgreSQL server binaries, or `nil` when not installed (tests skip).
    static let binDirectory: String? = {
        let fm = FileManager.default
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted(by: >)
        for version in versions where fm.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/initdb") {
            return "/usr/lib/postgresql/\(version)/bin"
        }
        return nil
    }()

    static let available = binDirectory != nil
    static let skipReason: Comment = "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin: install Debian's postgresql package"

    /// The cluster shared by the tests that never stop it.
    static func shared() async throws -> TestCluster { try await sharedCluster.value }
    private static let sharedCluster = Task { try await TestCluster.start() }

    private init(directory: TemporaryDirectory, bin: String, user: String?) {
        self.directory = directory
        self.bin = bin
        self.user = user
    }

    /// A new, started cluster (stop it with ``destroy()``).
    static func start() async throws -> TestCluster {
        guard let bin = binDirectory else { throw TestClusterError(message: "\(skipReason)") }
        let directory = try TemporaryDirectory(prefix: "h12pg")
        var user: String?
        if geteuid() == 0 {
            for name in ["postgres", "nobody"] {
                if let entry = getpwnam(name) {
                    chown(directory.path, entry.pointee.pw_uid, entry.pointee.pw_gid)
                    user = name
                    break
                }
            }
        }
        let cluster = TestCluster(directory: directory, bin: bin, user: user)
        registerForExit(directory.path)
        try await cluster.run("initdb", ["-D", directory.appending("data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        try await cluster.startServer()
        return cluster
    }

    /// The socket directory's URL of database `name`.
    func url(_ name: String) -> String { "postgres://postgres@/\(name)?host=\(directory.path)" }

    /// A new empty database; its URL.
    func createDatabase() async throws -> String {
        let number = counter.withLock { value -> Int in
            value += 1
            return value
        }
        let name = "h12_\(getpid())_\(number)"
        try await psql("CREATE DATABASE \(name)", database: "postgres")
        return url(name)
    }

    @discardableResult
    func psql(_ sql: String, database url: String) async throws -> String {
        let name = url.hasPrefix("postgres://") ? String(url.split(separator: "/")[2].split(separator: "?")[0]) : url
        let result = try await runProcess(bin + "/psql", [
            "-h", directory.path, "-U", "postgres", "-d", name, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql,
        ])
        guard result.status == 0 else { throw TestClusterError(message: "psql: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func startServer() async throws {
        try await run("pg_ctl", [
            "-D", directory.appending("data"), "-l", directory.appending("server.log"), "-w", "-t", "120",
            "-o", "-c listen_addresses='' -k \(directory.path) -c max_connections=200", "start",
        ])
    }

    /// Stops the server (fast: open connections are closed).
    func stopServer() async throws {
        try await run("pg_ctl", ["-D", directory.appending("data"), "-m", "fast", "-w", "-t", "120", "stop"])
    }

    /// Stops the server and removes the cluster.
    func destroy() async {
        try? await stopServer()
        directory.remove()
    }

    /// Runs a server program to its end with posix_spawn and waitpid on a
    /// thread of its own (Foundation's Process left `runuser` unreaped here,
    /// hanging the test), its output into the cluster's `tool.log`, with no
    /// other descriptor of the test process (a postgres that kept the write
    /// end of another test's stdin pipe hung that test's CLI for good).
    private func run(_ program: String, _ arguments: [String]) async throws {
        // Through a tiny exec wrapper that closes every descriptor above 2
        // first (posix_spawn_file_actions_addclosefrom_np is not visible to Swift).
        let closeAndExec = "import os, sys; os.closerange(3, 65536); os.execv(sys.argv[1], sys.argv[1:])"
        let argv = ["/usr/bin/python3", "-c", closeAndExec]
            + (user.map { ["/usr/sbin/runuser", "-u", $0, "--"] } ?? []) + [bin + "/" + program] + arguments
        let log = directory.appending("tool.log")
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            Thread {
                var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
                var pid: pid_t = 0
                let cArgs = argv.map { strdup($0) } + [nil]
                defer { cArgs.forEach { free($0) } }
                let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
                posix_spawn_file_actions_destroy(&actions)
                guard spawned == 0 else {
                    continuation.resume(throwing: TestClusterError(message: "cannot start \(argv[0]): error \(spawned)"))
                    return
                }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: status)
            }.start()
        }
        guard status == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw TestClusterError(message: "\(program) failed (wait status \(status)): \(output.suffix(2000))")
        }
    }
}

struct TestClusterError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Clusters still running when the test process exits are stopped (SIGINT to
/// the postmaster: fast shutdown) and removed.
private let runningClusters = Mutex<[String]>([])

private func registerForExit(_ directory: String) {
    let first = runningClusters.withLock { list -> Bool in
        list.append(directory)
        return list.count == 1
    }
    if first {
        atexit {
            for directory in runningClusters.withLock({ $0 }) {
                if let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
                   let first = text.split(separator: "\n").first, let pid = pid_t(first), pid > 0 {
                    kill(pid, SIGINT)
                    for _ in 0..<1000 where kill(pid, 0) == 0 { usleep(10_000) }
                }
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
    }
}
