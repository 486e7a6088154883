import Foundation
import GRDB
import GRDBSQLite
import MarketplaceDomain

/// Accounts, users, sessions and a membership's access read straight from a stepped
/// `sqlite3_stmt` through the SQLite C API, by position: the one decoder of
/// each, as ``MemberColumns`` is of memberships.
///
/// A session, its user and the membership's access are read on every
/// signed-in call and every CheckAccess; through GRDB's `Row` each row was
/// copied and each column looked up by name (a fifth of a CheckAccess's CPU
/// for the first two, BENCHMARKS.md, issue 16).
enum RecordColumns {
    /// Decoded by position in ``account(_:)``: keep the two in step.
    static let accountColumns = "id, name, type, status, created_at"

    /// The account on `s`'s current row (a select of ``accountColumns``).
    static func account(_ s: OpaquePointer) throws -> Account {
        Account(
            id: try MemberColumns.text(s, 0), name: try MemberColumns.text(s, 1),
            type: Account.Kind(rawValue: try MemberColumns.text(s, 2)) ?? .client,
            status: Account.Status(rawValue: try MemberColumns.text(s, 3)) ?? .disabled,
            createdAt: Date(millisecondsSince1970: sqlite3_column_int64(s, 4)))
    }

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

    /// Decoded by position in ``membershipAccess(_:)``: keep the two in step
    /// (`au`: the membership, `a`: its account).
    static let membershipAccessColumns = "au.id, au.status, au.invitation_expires_at, a.status"

    /// The membership's access on `s`'s current row (a select of
    /// ``membershipAccessColumns``), without its groups.
    static func membershipAccess(_ s: OpaquePointer) throws -> MembershipAccess {
        MembershipAccess(
            accountUserID: try MemberColumns.text(s, 0),
            status: MembershipStatus(rawValue: try MemberColumns.text(s, 1)) ?? .disabled,
            invitationExpiresAt: MemberColumns.optionalDate(s, 2),
            accountStatus: Account.Status(rawValue: try MemberColumns.text(s, 3)) ?? .disabled,
            groups: [])
    }

    /// Decoded by position in ``addGrant(_:to:)``: keep the two in step
    /// (`g`: a group of the membership, `p`: `json_each` of its permissions).
    static let grantColumns = "g.id, g.name, g.is_administrators, p.value"

    /// Adds `s`'s current row (a select of ``grantColumns``, one row per group
    /// and permission, ordered by group) to `access`'s groups.
    static func addGrant(_ s: OpaquePointer, to access: inout MembershipAccess) throws {
        let id = try MemberColumns.text(s, 0)
        if access.groups.last?.id != id {
            access.groups.append(.init(
                id: id, name: try MemberColumns.text(s, 1), isAdministrators: sqlite3_column_int64(s, 2) != 0,
                permissions: []))
        }
        if let permission = MemberColumns.optionalText(s, 3) {
            access.groups[access.groups.count - 1].permissions.append(permission)
        }
    }
}
