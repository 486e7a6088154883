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
    private let handle: OpaquePointer
    private let member: OpaquePointer
    private let groups: OpaquePointer

    init(_ db: Database) throws {
        guard let handle = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the reader connection is closed")
        }
        self.handle = handle
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
        try bind(id, to: member)
        guard try step(member) else { return nil }
        try bind(id, to: groups)
        var summaries: [GroupSummary] = []
        while try step(groups) {
            summaries.append(GroupSummary(id: try text(groups, 0), name: try text(groups, 1)))
        }
        let m = member
        let invitedFirstName = optionalText(m, 23)
        return AccountUser(
            id: try text(m, 0), accountID: try text(m, 1),
            user: User(
                id: try text(m, 2), firstName: try text(m, 10), lastName: try text(m, 11), email: try text(m, 12),
                phone: optionalText(m, 15), language: try text(m, 16), locale: try text(m, 17), icon: try text(m, 18),
                status: User.Status(rawValue: try text(m, 13)) ?? .deleted, hasPassword: sqlite3_column_int64(m, 19) != 0,
                createdAt: Date(millisecondsSince1970: sqlite3_column_int64(m, 20)),
                updatedAt: Date(millisecondsSince1970: sqlite3_column_int64(m, 21)),
                lastSignInAt: optionalDate(m, 14), blockedAt: optionalDate(m, 22)),
            groups: summaries, status: MembershipStatus(rawValue: try text(m, 3)) ?? .disabled,
            invitedAt: Date(millisecondsSince1970: sqlite3_column_int64(m, 4)), joinedAt: optionalDate(m, 5),
            lastAccessAt: optionalDate(m, 6), blockedAt: optionalDate(m, 7),
            invitationExpiresAt: optionalDate(m, 8), invitedBy: try text(m, 9),
            invitedAs: try invitedFirstName.map { InvitedPerson(firstName: $0, lastName: try text(m, 24), phone: optionalText(m, 25)) })
    }

    private func bind(_ text: String, to statement: OpaquePointer) throws {
        // Its exact length in bytes (a NUL inside stays part of it, as GRDB
        // binds it); SQLITE_TRANSIENT: SQLite copies the text (the Swift
        // buffer is only valid during the call).
        let length = Int32(clamping: text.utf8.count)
        let code = text.withCString { sqlite3_bind_text(statement, 1, $0, length, Self.transient) }
        guard code == SQLITE_OK else { throw failure(code) }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// True for a row, false when done.
    private func step(_ statement: OpaquePointer) throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw failure(code)
        }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(handle)))
    }

    private func optionalText(_ statement: OpaquePointer, _ column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// A column the schema declares NOT NULL: NULL there is a damaged database.
    private func text(_ statement: OpaquePointer, _ column: Int32) throws -> String {
        guard let text = optionalText(statement, column) else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "column \(column) of the membership read is NULL")
        }
        return text
    }

    private func optionalDate(_ statement: OpaquePointer, _ column: Int32) -> Date? {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL else { return nil }
        return Date(millisecondsSince1970: sqlite3_column_int64(statement, column))
    }
}
