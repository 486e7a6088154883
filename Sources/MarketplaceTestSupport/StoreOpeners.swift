import MarketplaceDomain
import MarketplaceSQLite
import MarketplaceServer

extension UsersServerConfiguration {
    /// Opens SQLite in the configuration's data directory: the store of servers
    /// started by tests unless `configure` sets another `openStore`.
    public static let sqliteStore: @Sendable (UsersServerConfiguration) async throws -> any Store = { configuration in
        try SQLiteStore(dataDirectory: configuration.dataDirectory)
    }
}
