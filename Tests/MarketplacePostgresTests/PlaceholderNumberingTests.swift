@testable import MarketplacePostgres
import Testing

/// The store's SQL is written with `?` placeholders (as the SQLite backend's);
/// PostgreSQL wants `$1, $2, ...` (pure logic, no server needed).
struct PlaceholderNumberingTests {
    @Test("each ? becomes $n in order, past nine too")
    func numbersInOrder() {
        #expect(BlockingConnection.numbered("SELECT * FROM t WHERE a = ? AND b = ?") == "SELECT * FROM t WHERE a = $1 AND b = $2")
        let twelve = (1...12).map { _ in "?" }.joined(separator: ", ")
        #expect(BlockingConnection.numbered("VALUES (\(twelve))") == "VALUES (\((1...12).map { "$\($0)" }.joined(separator: ", ")))")
    }

    @Test("text without a placeholder is returned as is; other characters, multi-byte ones included, are kept")
    func keepsEverythingElse() {
        #expect(BlockingConnection.numbered("SELECT 1") == "SELECT 1")
        #expect(BlockingConnection.numbered("SELECT 'é日本🙂' || ?, 'ß'") == "SELECT 'é日本🙂' || $1, 'ß'")
        #expect(BlockingConnection.numbered("?") == "$1")
        #expect(BlockingConnection.numbered("") == "")
    }
}
