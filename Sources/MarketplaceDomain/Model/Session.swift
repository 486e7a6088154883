import Foundation

/// A signed-in user's session: created by ``UserDirectory/signIn(email:password:peer:)``,
/// presented on each call as an opaque bearer token (never stored in clear),
/// ended by sign-out, expiry, a password change elsewhere or the user's deletion.
public struct Session: Sendable, Equatable {
    /// `SES-` and 16 lowercase hex digits. Internal: names the session in logs
    /// and calls, never a credential (the token is).
    public var id: String
    public var userID: String
    /// The account whose rules apply to the user's calls; `nil` for a user with no account.
    public var currentAccountID: String?
    public var createdAt: Date
    /// The last recorded use (recorded at most once per touch interval, 60 s by default).
    public var lastUsedAt: Date
    /// Absolute expiry: `createdAt` + the session lifetime.
    public var expiresAt: Date
    /// `lastUsedAt` + the idle timeout.
    public var idleExpiresAt: Date

    public init(
        id: String, userID: String, currentAccountID: String?, createdAt: Date, lastUsedAt: Date, expiresAt: Date,
        idleExpiresAt: Date
    ) {
        self.id = id
        self.userID = userID
        self.currentAccountID = currentAccountID
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.idleExpiresAt = idleExpiresAt
    }

    /// Whether `id` has the form of a session id (`SES-` and 16 lowercase hex digits).
    public static func isValidID(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard utf8.count == 20, id.hasPrefix("SES-") else { return false }
        return utf8.dropFirst(4).allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// A new random session id.
    static func generateID() -> String {
        let hex = Array("0123456789abcdef")
        return "SES-" + String(Sodium.randomBytes(8).flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0x0F)]] })
    }

    /// Checks `id`'s format; the error names `field`.
    static func validateID(_ id: String, field: String = "session_id") throws(DomainError) {
        guard isValidID(id) else {
            throw .invalidArgument("\(field): \(id.isEmpty ? "is required" : "\"\(id.prefix(40))\" is not a valid session id"); expected SES- and 16 hex digits")
        }
    }
}
