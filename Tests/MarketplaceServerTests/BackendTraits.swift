import MarketplaceTestSupport
import Testing

extension Trait where Self == ConditionTrait {
    /// A suite that runs only on the SQLite pass, with the reason it cannot run on PostgreSQL.
    static func sqliteOnly(_ reason: Comment) -> Self {
        .enabled(if: TestBackend.current == .sqlite, reason)
    }

    /// A suite that needs PostgreSQL (`MARKETPLACE_TEST_BACKEND=postgres`).
    static var postgresOnly: Self {
        .enabled(if: TestBackend.current == .postgres, "runs with MARKETPLACE_TEST_BACKEND=postgres")
    }
}
