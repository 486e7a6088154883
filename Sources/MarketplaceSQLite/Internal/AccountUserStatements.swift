import Foundation
import GRDB
import GRDBSQLite
import MarketplaceDomain

/// ``SQLiteStore/readAccountUser(id:)`` on one reader connection: the
/// membership select and its groups' select, prepared once per connection
/// and run through the SQLite C API, the columns decoded straight into an
/// ``AccountUser``.
///
/// The hottest read of the service. Through GRDB each call looked its SQL up
/// in the statement cache (hashing the whole text), built `Row` objects (whose
/// column-name dictionary lowercases every name) and decoded through generic
/// conversions: a fifth of the server's CPU per call (BENCHMARKS.md, issue 16).
/// Same SQL and same answer as ``SQLiteAccess/accountUser(id:)``
/// (BackendParityTests compares the two).
///
/// Used only on its reader's thread; ``finalize()`` before the connection closes.
final class AccountUserStatements {
    private let member: OpaquePointer
    private let groups: OpaquePointer

    init(_ db: Database) throws {
        guard let handle = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the reader connection is closed")
        }
        member = try Self.prepare(handle, "\(SQLiteAccess.memberSelect) WHERE au.id = ?")
        do {
            groups = try Self.prepare(handle, """
                SELECT g.id, g.name FROM account_user_groups aug JOIN groups g ON g.id = aug.group_id
                WHERE aug.account_user_id = ? ORDER BY g.name, g.id
                """)
        } catch {
            sqlite3_finalize(member)
            throw error
        }
    }

    func finalize() {
        sqlite3_finalize(member)
        sqlite3_finalize(groups)
    }

    private static func prepare(_ handle: OpaquePointer, _ sql: String) throws -> OpaquePointer {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
        }
        return statement
    }

    /// The membership `id` with its groups (ordered by name, then id), or nil.
    /// Runs inside the reader's transaction, so both selects see one snapshot.
    func accountUser(id: String) throws -> AccountUser? {
        defer {
            sqlite3_reset(member)
            sqlite3_reset(groups)
        }
        try MemberColumns.bind(id, at: 1, to: member)
        guard try MemberColumns.step(member) else { return nil }
        try MemberColumns.bind(id, at: 1, to: groups)
        var summaries: [GroupSummary] = []
        while try MemberColumns.step(groups) {
            summaries.append(GroupSummary(id: try MemberColumns.text(groups, 0), name: try MemberColumns.text(groups, 1)))
        }
        return try MemberColumns.member(member, groups: summaries)
    }
}
