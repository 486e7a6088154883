import Foundation
import GRDB
import GRDBSQLite
import MarketplaceDomain

/// Users and sessions read straight from a stepped `sqlite3_stmt` through
/// the SQLite C API, by position: the one decoder of each, as
/// ``MemberColumns`` is of memberships.
///
/// A session and its user are read on every signed-in call and every
/// CheckAccess; through GRDB's `Row` each row was copied and each column
/// looked up by name (a fifth of a CheckAccess's CPU, BENCHMARKS.md, issue 16).
enum RecordColumns {
    /// Decoded by position in ``user(_:)``: keep the two in step.
    static let userColumns = "id, first_name, last_name, email, phone, language, locale, icon, status, password_hash, created_at, updated_at, last_sign_in_at, blocked_at"

    /// The user on `s`'s current row (a select of ``userColumns``).
    static func user(_ s: OpaquePointer) throws -> User {
        User(
            id: try MemberColumns.text(s, 0), firstName: try MemberColumns.text(s, 1), lastName: try MemberColumns.text(s, 2),
            email: try MemberColumns.text(s, 3), phone: MemberColumns.optionalText(s, 4),
            language: try MemberColumns.text(s, 5), locale: try MemberColumns.text(s, 6), icon: try MemberColumns.text(s, 7),
            status: User.Status(rawValue: try MemberColumns.text(s, 8)) ?? .deleted,
            hasPassword: sqlite3_column_type(s, 9) != SQLITE_NULL,
            createdAt: Date(millisecondsSince1970: sqlite3_column_int64(s, 10)),
            updatedAt: Date(millisecondsSince1970: sqlite3_column_int64(s, 11)),
            lastSignInAt: MemberColumns.optionalDate(s, 12), blockedAt: MemberColumns.optionalDate(s, 13))
    }

    /// Decoded by position in ``session(_:)``: keep the two in step.
    static let sessionColumns = "id, token_hash, user_id, current_account_id, created_at, last_used_at, expires_at"

    /// The session on `s`'s current row (a select of ``sessionColumns``).
    static func session(_ s: OpaquePointer) throws -> SessionRecord {
        SessionRecord(
            id: try MemberColumns.text(s, 0), tokenHash: blob(s, 1), userID: try MemberColumns.text(s, 2),
            currentAccountID: MemberColumns.optionalText(s, 3),
            createdAt: Date(millisecondsSince1970: sqlite3_column_int64(s, 4)),
            lastUsedAt: Date(millisecondsSince1970: sqlite3_column_int64(s, 5)),
            expiresAt: Date(millisecondsSince1970: sqlite3_column_int64(s, 6)))
    }

    /// A blob column's bytes (empty for NULL or an empty blob).
    private static func blob(_ s: OpaquePointer, _ column: Int32) -> [UInt8] {
        guard let bytes = sqlite3_column_blob(s, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(s, column))))
    }
}
