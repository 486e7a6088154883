import Foundation

/// A person with one global login (email + password).
public struct User: Sendable, Equatable, Hashable {
    /// The global status of a user.
    public enum Status: String, Sendable, CaseIterable {
        case active, deleted
    }

    /// `USR-dddd-dddd`.
    public var id: String
    public var firstName: String
    public var lastName: String
    /// Normalised: trimmed and lowercased; unique across users. A deleted user's
    /// email is a tombstone (`deleted+USR-...@invalid`) so the address is free.
    public var email: String
    /// Country prefix and number, e.g. `+33 612345678`; `nil` when not given.
    public var phone: String?
    public var language: String
    public var locale: String
    public var icon: String
    public var status: Status
    /// Whether the user has chosen a password (an invited user has none yet).
    public var hasPassword: Bool
    public var createdAt: Date
    public var updatedAt: Date
    public var lastSignInAt: Date?
    public var blockedAt: Date?

    public init(
        id: String, firstName: String, lastName: String, email: String, phone: String?,
        language: String = "en", locale: String = "en-US", icon: String = "",
        status: Status = .active, hasPassword: Bool = false, createdAt: Date, updatedAt: Date,
        lastSignInAt: Date? = nil, blockedAt: Date? = nil
    ) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.phone = phone
        self.language = language
        self.locale = locale
        self.icon = icon
        self.status = status
        self.hasPassword = hasPassword
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastSignInAt = lastSignInAt
        self.blockedAt = blockedAt
    }

    /// "First Last", for messages and emails.
    public var displayName: String {
        [firstName, lastName].filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// The part of a user shown on a membership.
public struct UserSummary: Sendable, Equatable, Hashable {
    public var id: String
    public var firstName: String
    public var lastName: String
    public var email: String
    public var status: User.Status
    public var lastSignInAt: Date?

    /// The summary of `user`.
    public init(_ user: User) {
        self.init(id: user.id, firstName: user.firstName, lastName: user.lastName, email: user.email, status: user.status, lastSignInAt: user.lastSignInAt)
    }

    public init(id: String, firstName: String, lastName: String, email: String, status: User.Status, lastSignInAt: Date?) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.status = status
        self.lastSignInAt = lastSignInAt
    }
}
