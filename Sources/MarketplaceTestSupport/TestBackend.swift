import Foundation
import MarketplaceDomain
import MarketplacePostgres
import MarketplaceSQLite

/// The storage backend the tests of this process run against, from
/// `MARKETPLACE_TEST_BACKEND` (`sqlite`, the default, or `postgres`).
/// Scripts/test runs the backend-parameterized suites once per backend
/// (docs/testing.md).
public enum TestBackend: String, Sendable, CaseIterable {
    case sqlite
    case postgres

    public static let current: TestBackend = {
        let raw = ProcessInfo.processInfo.environment["MARKETPLACE_TEST_BACKEND"] ?? ""
        if raw.isEmpty { return .sqlite }
        guard let backend = TestBackend(rawValue: raw) else {
            fatalError("MARKETPLACE_TEST_BACKEND=\(raw): expected sqlite or postgres")
        }
        return backend
    }()
}

/// Where one service under test keeps its rows, on ``TestBackend/current``:
/// SQLite in its data directory, or its own database in the test process's
/// ``PostgresCluster``. The key file stays in the data directory either way.
///
/// A data directory keeps its database across restarts (crash tests, a
/// server started twice on one directory): the database's name is recorded
/// beside it, in `DATA_DIRECTORY.postgres`.
public struct TestStorage: Sendable {
    public let dataDirectory: String
    /// The database on PostgreSQL; nil on SQLite.
    public let database: PostgresTestDatabase?

    /// Storage at `dataDirectory`, on `database` (nil: SQLite in the directory).
    public init(dataDirectory: String, database: PostgresTestDatabase?) {
        self.dataDirectory = dataDirectory
        self.database = database
    }

    /// Connections each store under test opens on PostgreSQL: tests start
    /// many servers at once, each with its own pool.
    public static let poolSize = 4

    /// How long a store under test may wait to open one connection.
    public static let connectTimeout: Duration = .seconds(60)

    /// The storage of `dataDirectory`: a new database on PostgreSQL, or the
    /// one recorded for the directory by an earlier call.
    public static func forDataDirectory(
        _ dataDirectory: String, backend: TestBackend = .current
    ) async throws -> TestStorage {
        guard backend == .postgres else { return TestStorage(dataDirectory: dataDirectory, database: nil) }
        let cluster = try await PostgresCluster.shared()
        let record = dataDirectory + ".postgres"
        if let name = try? String(contentsOfFile: record, encoding: .utf8) {
            return TestStorage(dataDirectory: dataDirectory, database: PostgresTestDatabase(cluster: cluster, name: name))
        }
        let database = try await cluster.createDatabase()
        try database.name.write(toFile: record, atomically: true, encoding: .utf8)
        return TestStorage(dataDirectory: dataDirectory, database: database)
    }

    /// What the daemon needs beyond `--data-dir`: `--database URL` on PostgreSQL.
    public var daemonArguments: [String] {
        database.map { ["--database", $0.url, "--database-pool-size", "\(Self.poolSize)"] } ?? []
    }

    /// Opens the store, as the server does.
    public func openStore() async throws -> any Store {
        if let database {
            // The URL carries connect_timeout (``connectTimeout``).
            return try await PostgresStore.open(PostgresStoreConfiguration(url: database.url, poolSize: Self.poolSize))
        }
        return try SQLiteStore(dataDirectory: dataDirectory)
    }

    /// Drops the database (PostgreSQL) and forgets it; the data directory is
    /// the caller's to remove.
    public func remove() async {
        guard let database else { return }
        try? await database.drop()
        try? FileManager.default.removeItem(atPath: dataDirectory + ".postgres")
    }
}
