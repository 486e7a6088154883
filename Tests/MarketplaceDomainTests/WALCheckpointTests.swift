import Foundation
import MarketplaceDomain
import MarketplaceSQLite
import Testing

/// The SQLite store's write-ahead log stays bounded under a stream of
/// commits: SQLite's automatic checkpoint, run by the committing connection
/// past 1,000 log pages, copies the log into the database and lets the next
/// commit start it over. (A checkpoint on a thread of its own instead was
/// tried, BENCHMARKS.md: under a stream of commits it never caught up, and
/// this test saw the log reach 17.6 MB.)
@Suite(.sqliteOnly("SQLite's write-ahead log"))
struct WALCheckpointTests {
    @Test("under a stream of commits the log stays near its 1,000-page threshold, and no commit is lost")
    func logStaysBounded() async throws {
        let path = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let wal = path + "/users.sqlite-wal"
        let commits = 1_500
        var largest = 0
        do {
            let store = try SQLiteStore(dataDirectory: path)
            let now = Date()
            // Random ids (inserts land all over the table), each used once:
            // user ids are 8 random digits, and 1,500 of them collide in about
            // one run of a hundred (seen in CI as a primary key conflict).
            var used = Set<String>()
            for i in 0..<commits {
                var id = EntityKind.user.generate()
                while !used.insert(id).inserted { id = EntityKind.user.generate() }
                // One commit each (awaited one at a time, so group commit
                // cannot merge them), a few pages of the users table and its
                // email index each.
                try await store.write { [id] w in
                    try w.insert(
                        User(id: id, firstName: "Wal\(i)", lastName: "Writer", email: "wal\(i)-\(id.lowercased())@example.com",
                             phone: nil, createdAt: now, updatedAt: now),
                        passwordHash: nil)
                }
                if i % 50 == 0 {
                    let size = ((try? FileManager.default.attributesOfItem(atPath: wal))?[.size] as? Int) ?? 0
                    largest = max(largest, size)
                }
            }
            let written = try await store.read { r in try r.users(after: nil, limit: commits + 10).count }
            #expect(written == commits)
        }
        print("largest write-ahead log seen: \(largest) bytes")
        let pageBytes = 4_096
        // Without a checkpoint the log would hold every frame of every commit
        // (over 3,000 pages here); with one it restarts near 1,000.
        #expect(largest > 0)
        #expect(largest < 2_000 * pageBytes, "the log grew to \(largest) bytes")
        // The store closed: the writer, closing last, checkpointed and removed the log.
        #expect(!FileManager.default.fileExists(atPath: wal))
    }
}
