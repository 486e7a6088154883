import Foundation

/// A company or organisation on the platform.
public struct Account: Sendable, Equatable, Hashable {
    /// What kind of organisation an account is.
    public enum Kind: String, Sendable, CaseIterable {
        case client, vendor, operations
    }

    /// Whether an account is usable.
    public enum Status: String, Sendable, CaseIterable {
        case active, disabled
    }

    /// `ACC-dddd-dddd`.
    public var id: String
    public var name: String
    public var type: Kind
    public var status: Status
    public var createdAt: Date

    public init(id: String, name: String, type: Kind, status: Status, createdAt: Date) {
        self.id = id
        self.name = name
        self.type = type
        self.status = status
        self.createdAt = createdAt
    }
}
