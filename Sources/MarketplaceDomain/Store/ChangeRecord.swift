import Foundation

/// One entry of the change feed, written by the store in the same transaction
/// as the change it records (see ``UserDirectory/changes(after:limit:wait:fromHead:)``).
public struct ChangeRecord: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A membership was created or its status or groups changed.
        case membership
        /// A user's status changed or the user was blocked.
        case user
        /// A session ended.
        case sessionEnded = "session_ended"
        /// A group's permissions changed.
        case groupPermissions = "group_permissions"
        /// An account's status changed.
        case accountStatus = "account_status"
    }

    /// Increasing in commit order.
    public var position: Int64
    public var kind: Kind
    public var committedAt: Date
    public var userID: String?
    public var accountID: String?
    public var accountUserID: String?
    public var groupID: String?
    public var sessionID: String?

    public init(
        position: Int64, kind: Kind, committedAt: Date, userID: String? = nil, accountID: String? = nil,
        accountUserID: String? = nil, groupID: String? = nil, sessionID: String? = nil
    ) {
        self.position = position
        self.kind = kind
        self.committedAt = committedAt
        self.userID = userID
        self.accountID = accountID
        self.accountUserID = accountUserID
        self.groupID = groupID
        self.sessionID = sessionID
    }
}

/// The positions the change feed can serve: changes after `oldest - 1` up to `newest`.
public struct ChangeBounds: Sendable, Equatable {
    /// The oldest change kept; `nil` when none is kept.
    public var oldest: Int64?
    /// The newest position ever assigned (0 before the first change).
    public var newest: Int64

    public init(oldest: Int64?, newest: Int64) {
        self.oldest = oldest
        self.newest = newest
    }
}
