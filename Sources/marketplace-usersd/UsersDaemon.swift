import ArgumentParser
import Dispatch
import Foundation
import Logging
import MarketplaceDomain
import MarketplaceServer

/// `marketplace-usersd serve` (the default subcommand): parses options, sets
/// up logging and metrics, runs the server until SIGTERM, SIGINT or SIGQUIT,
/// then shuts down gracefully. SIGHUP re-reads `--log-level-file`.
///
/// Every option is optional here: `ServeSettings` resolves it from the flag,
/// else its environment variable (parsed as strictly, errors naming the
/// variable), else the default written in its help.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the users and invitations service on a Unix socket (the default command).",
        discussion: """
            Every option can also be set by the environment variable named in its help;
            a flag overrides its variable.
            Example:
              marketplace-usersd --socket ./marketplace-users.sock --data-dir ./data
            """)

    @Option(help: "Unix socket path to listen on (default ./marketplace-users.sock; env MARKETPLACE_USERS_SOCKET). Ignored under socket activation (LISTEN_FDS).")
    var socket: String?

    @Option(help: "Directory of the SQLite database and key file (default ./data; env MARKETPLACE_USERS_DATA_DIR). With --database it holds only the key file.")
    var dataDir: String?

    @Option(help: "Run on this PostgreSQL database instead of SQLite in --data-dir: postgres://user[:password]@host[:port]/database, or postgres://user@/database?host=/run/postgresql for a Unix socket (env MARKETPLACE_USERS_DATABASE). Several daemons may share one database.")
    var database: String?

    @Option(help: "PostgreSQL connections this daemon keeps, 1-200 (default 10; env MARKETPLACE_USERS_DATABASE_POOL_SIZE). Only with --database.")
    var databasePoolSize: Int?

    @Option(help: "Write transactions this daemon runs at once on PostgreSQL, 1 to the pool size (default 2; env MARKETPLACE_USERS_DATABASE_WRITE_CONCURRENCY); more wait their turn. Fewer concurrent serializable writers fail and run again less often. Only with --database.")
    var databaseWriteConcurrency: Int?

    @Option(help: "The key file sealing invitation links, shared by every daemon of a fleet; must exist, mode 0600, owned by the daemon's user (create it with `marketplace-usersd keygen`). Default <data-dir>/secrets.key, created at first start (env MARKETPLACE_USERS_KEY_FILE).")
    var keyFile: String?

    @Option(help: "Octal mode of the socket file (default 0660; env MARKETPLACE_USERS_SOCKET_MODE).")
    var socketMode: String?

    @Option(help: "Most connections served at once (default 1024; env MARKETPLACE_USERS_MAX_CONNECTIONS).")
    var maxConnections: Int?

    @Option(help: "Most calls in flight per connection (default 256; env MARKETPLACE_USERS_MAX_CALLS_PER_CONNECTION).")
    var maxCallsPerConnection: Int?

    @OptionGroup(title: "Connection budgets")
    var budgets: ConnectionBudgetOptions

    @Option(help: "Seconds in-flight calls may take to finish at shutdown (default 10; env MARKETPLACE_USERS_SHUTDOWN_GRACE).")
    var shutdownGrace: Int?

    @Option(help: "How long invitation links work, e.g. 7d, 36h, 90s (default 7d; env MARKETPLACE_USERS_INVITATION_TTL).")
    var invitationTTL: String?

    @Option(help: "Invitation links are this URL plus the token (default https://marketplace.example/invitations/; env MARKETPLACE_USERS_INVITATION_BASE_URL).")
    var invitationBaseURL: String?

    @Option(name: .customLong("operator-uid"), help: "A uid whose connections act as platform operators; repeatable (env MARKETPLACE_USERS_OPERATOR_UIDS, comma-separated). Root and the server's own uid always are.")
    var operatorUIDs: [UInt32] = []

    @Option(name: .customLong("operator-gid"), help: "A primary gid whose connections act as platform operators; repeatable (env MARKETPLACE_USERS_OPERATOR_GIDS, comma-separated).")
    var operatorGIDs: [UInt32] = []

    @Option(name: .customLong("service-uid"), help: "A uid whose connections act as internal services (read-only lookups, access checks, change feed); repeatable (env MARKETPLACE_USERS_SERVICE_UIDS, comma-separated). An operator stays an operator.")
    var serviceUIDs: [UInt32] = []

    @Option(name: .customLong("service-gid"), help: "A primary gid whose connections act as internal services; repeatable (env MARKETPLACE_USERS_SERVICE_GIDS).")
    var serviceGIDs: [UInt32] = []

    @Option(help: "A session ends this long after sign-in, e.g. 12h (default 12h; env MARKETPLACE_USERS_SESSION_LIFETIME).")
    var sessionLifetime: String?

    @Option(help: "A session ends after this long unused, e.g. 30m (default 30m; env MARKETPLACE_USERS_SESSION_IDLE_TIMEOUT).")
    var sessionIdleTimeout: String?

    @Option(help: "Argon2id passes (env MARKETPLACE_USERS_ARGON2_OPSLIMIT; default libsodium's interactive, 2).")
    var argon2Opslimit: UInt64?

    @Option(help: "Argon2id memory in KiB (env MARKETPLACE_USERS_ARGON2_MEMLIMIT_KIB; default libsodium's interactive, 65536).")
    var argon2MemlimitKib: Int?

    @Option(help: "Password hashes computed at once (default 2; env MARKETPLACE_USERS_HASHING_THREADS).")
    var hashingThreads: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default info; env MARKETPLACE_USERS_LOG_LEVEL).")
    var logLevel: String?

    @Option(help: "Log format on standard error: text or json, one object per line (default text; env MARKETPLACE_USERS_LOG_FORMAT).")
    var logFormat: String?

    @Option(help: "A file holding the log level (one word); read at start, overriding --log-level, and again on SIGHUP (env MARKETPLACE_USERS_LOG_LEVEL_FILE).")
    var logLevelFile: String?

    @Option(help: "Serve Prometheus metrics over HTTP at GET /metrics on a loopback host:port (e.g. 127.0.0.1:9464) or a Unix socket path (env MARKETPLACE_USERS_METRICS_LISTEN). Off by default.")
    var metricsListen: String?

    func validate() throws {
        _ = try ServeSettings(self)
    }

    func run() async throws {
        let settings = try ServeSettings(self)
        var level = settings.logLevel
        var levelFileProblem: String?
        if let file = settings.logLevelFile {
            switch LogLevelFile.read(file) {
            case .success(let fileLevel): level = fileLevel
            case .failure(let problem): levelFileProblem = problem.description
            }
        }
        let control = LogLevelControl(level)
        let json = settings.logFormat == .json
        LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, json: json, control: control) }
        let logger = Logger(label: "marketplace-usersd")
        if let levelFileProblem {
            logger.critical("cannot start: \(levelFileProblem)")
            throw ExitCode(1)
        }
        let daemon = DaemonRun(settings: settings, logger: logger, levelControl: control)
        try await daemon.run()
    }
}

/// `--log-level-file`: one word, a log level.
enum LogLevelFile {
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    static func read(_ path: String) -> Result<Logger.Level, Problem> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return .failure(Problem(description: "cannot read the log level file \(path)"))
        }
        let word = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let level = Logger.Level(rawValue: word) else {
            return .failure(Problem(description: "the log level file \(path) holds '\(word.prefix(40))', not one of trace, debug, info, notice, warning, error, critical"))
        }
        return .success(level)
    }
}
