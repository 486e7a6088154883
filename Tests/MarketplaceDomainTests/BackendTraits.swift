import MarketplaceTestSupport
import Testing

extension Trait where Self == ConditionTrait {
    /// A test that runs only on the SQLite pass, with the reason it cannot run on PostgreSQL.
    static func sqliteOnly(_ reason: Comment) -> Self {
        .enabled(if: TestBackend.current == .sqlite, reason)
    }
}
