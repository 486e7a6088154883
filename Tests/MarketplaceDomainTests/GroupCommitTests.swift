import Foundation
import MarketplaceDomain
import MarketplaceTestSupport
import Testing

/// Writes that arrive together share one transaction (group commit on
/// SQLite; concurrent transactions on PostgreSQL), yet each still commits or
/// rolls back on its own.
@Suite struct GroupCommitTests {
    @Test func concurrentWritesCommitOrFailEachOnTheirOwn() async throws {
        try await withStore { _, store in try await concurrentWrites(store) }
    }

    private func concurrentWrites(_ store: any Store) async throws {
        let created = Date(timeIntervalSince1970: 1_700_000_000)
        let count = 200
        // Every fifth body inserts, then throws: its insert must be undone and
        // only its caller must see the error. Every seventh inserts an account
        // that an earlier body of the same wave may already have inserted.
        let outcomes = await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for n in 0..<count {
                let id = Self.accountID(n)
                group.addTask {
                    do {
                        let value = try await store.write { w -> Int in
                            try w.insert(Account(id: id, name: "n\(n)", type: .client, status: .active, createdAt: created))
                            if n % 5 == 4 { throw DomainError(.invalidArgument, "body \(n) refuses") }
                            return n
                        }
                        return (n, .success(value))
                    } catch {
                        return (n, .failure(error))
                    }
                }
            }
            var outcomes: [Int: Result<Int, any Error>] = [:]
            for await (n, outcome) in group { outcomes[n] = outcome }
            return outcomes
        }
        var committed: Set<String> = []
        var duplicates = 0
        for n in 0..<count {
            switch outcomes[n]! {
            case .success(let value):
                #expect(value == n)
                #expect(n % 5 != 4)
                committed.insert(Self.accountID(n))
            case .failure(let error):
                if n % 5 == 4 {
                    #expect((error as? DomainError)?.kind == .invalidArgument)
                } else {
                    #expect(Self.accountID(n) == "ACC-7000-9999", "body \(n) failed: \(error)")
                    #expect(error is StoreConflict)
                    duplicates += 1
                }
            }
        }
        // Exactly the bodies that returned are in the database.
        let stored = try await store.read { r in try r.accounts(after: nil, limit: 1_000).map(\.id) }
        #expect(Set(stored) == committed)
        #expect(stored.count == committed.count)
        #expect(committed.contains("ACC-7000-9999"))
        #expect(duplicates > 0)
    }

    /// Body `n`'s account: a shared id for some bodies that do not throw
    /// themselves, so that all but the first of them conflict.
    static func accountID(_ n: Int) -> String {
        String(format: "ACC-7000-%04d", n % 7 == 6 && n % 5 != 4 ? 9999 : n)
    }

    @Test func aWriteIsReadableOnceAcknowledged() async throws {
        try await withStore { storage, store in try await readableOnceAcknowledged(storage, store) }
    }

    private func readableOnceAcknowledged(_ storage: TestStorage, _ store: any Store) async throws {
        let created = Date(timeIntervalSince1970: 1_700_000_000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<64 {
                group.addTask {
                    let id = String(format: "ACC-7100-%04d", n)
                    try await store.write { w in
                        try w.insert(Account(id: id, name: "n\(n)", type: .client, status: .active, createdAt: created))
                    }
                    // A fresh store (another connection) sees it at once.
                    let found = try await store.read { r in try r.account(id: id) }
                    #expect(found?.id == id)
                }
            }
            try await group.waitForAll()
        }
        // Reopening the store (as after a restart) finds all of them.
        let reopened = try await storage.openStore()
        let stored = try await reopened.read { r in try r.accounts(after: nil, limit: 1_000) }
        await close(reopened)
        #expect(stored.count == 64)
    }
}
