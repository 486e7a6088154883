import Foundation
import GRDB
import GRDBSQLite
import MarketplaceDomain

/// Rows of ``SQLiteAccess/memberSelect`` and of the groups selects, read
/// straight from a stepped `sqlite3_stmt` through the SQLite C API: the one
/// decoder of memberships, used by every membership read (``SQLiteAccess``
/// and ``AccountUserStatements``).
///
/// GRDB's `Row` copies each row into a dictionary-like value and converts
/// every column through generic conversions; for a page of 50 memberships
/// that was a fifth of a listing's CPU, and a fifth of a get account user's
/// (BENCHMARKS.md, issue 16).
enum MemberColumns {
    /// The membership on `statement`'s current row, with `groups`.
    static func member(_ m: OpaquePointer, groups: [GroupSummary]) throws -> AccountUser {
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
            groups: groups, status: MembershipStatus(rawValue: try text(m, 3)) ?? .disabled,
            invitedAt: Date(millisecondsSince1970: sqlite3_column_int64(m, 4)), joinedAt: optionalDate(m, 5),
            lastAccessAt: optionalDate(m, 6), blockedAt: optionalDate(m, 7),
            invitationExpiresAt: optionalDate(m, 8), invitedBy: try text(m, 9),
            invitedAs: try invitedFirstName.map { InvitedPerson(firstName: $0, lastName: try text(m, 24), phone: optionalText(m, 25)) })
    }

    /// Every row of GRDB `statement` (its arguments already set), each
    /// given to `body` as the raw statement; the statement is reset after.
    static func forEachRow(of statement: Statement, _ body: (OpaquePointer) throws -> Void) throws {
        let raw = statement.sqliteStatement
        defer { sqlite3_reset(raw) }
        while try step(raw) { try body(raw) }
    }

    /// Binds `text` to parameter `index` of `statement` (reset first).
    static func bind(_ text: String, at index: Int32, to statement: OpaquePointer) throws {
        // Its exact length in bytes (a NUL inside stays part of it, as GRDB
        // binds it); SQLITE_TRANSIENT: SQLite copies the text (the Swift
        // buffer is only valid during the call).
        let length = Int32(clamping: text.utf8.count)
        let code = text.withCString { sqlite3_bind_text(statement, index, $0, length, transient) }
        guard code == SQLITE_OK else { throw failure(code, of: statement) }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// True for a row, false when done.
    static func step(_ statement: OpaquePointer) throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw failure(code, of: statement)
        }
    }

    /// The error SQLite reported with `code` on `statement`'s connection.
    static func failure(_ code: Int32, of statement: OpaquePointer) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(statement))))
    }

    /// A text column's UTF-8 bytes, valid until the statement steps again
    /// (empty for NULL).
    static func bytes(_ statement: OpaquePointer, _ column: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let bytes = sqlite3_column_text(statement, column) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, column)))
    }

    static func optionalText(_ statement: OpaquePointer, _ column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// A column the schema declares NOT NULL: NULL there is a damaged database.
    static func text(_ statement: OpaquePointer, _ column: Int32) throws -> String {
        guard let text = optionalText(statement, column) else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "column \(column) of a row read is NULL (its schema says NOT NULL)")
        }
        return text
    }

    static func optionalDate(_ statement: OpaquePointer, _ column: Int32) -> Date? {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL else { return nil }
        return Date(millisecondsSince1970: sqlite3_column_int64(statement, column))
    }
}
