import Foundation

/// A named set of permissions in one account. Exactly one group per account
/// may be the administrators' group, and at most one the default group.
public struct Group: Sendable, Equatable, Hashable {
    /// `UGR-dddd-dddd`.
    public var id: String
    public var accountID: String
    public var name: String
    public var description: String
    /// The modules/operations members of this group may use.
    public var permissions: [String]
    public var isAdministrators: Bool
    public var isDefault: Bool
    public var createdAt: Date

    public init(
        id: String, accountID: String, name: String, description: String, permissions: [String],
        isAdministrators: Bool, isDefault: Bool, createdAt: Date
    ) {
        self.id = id
        self.accountID = accountID
        self.name = name
        self.description = description
        self.permissions = permissions
        self.isAdministrators = isAdministrators
        self.isDefault = isDefault
        self.createdAt = createdAt
    }
}

/// The id and name of a group, as shown on a membership.
public struct GroupSummary: Sendable, Equatable, Hashable {
    public var id: String
    public var name: String
    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}
