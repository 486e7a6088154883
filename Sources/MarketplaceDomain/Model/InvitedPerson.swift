import Foundation

/// The person as the inviting administrator typed them (InviteUser's names and
/// phone), kept on a membership until the person accepts an invitation of
/// that account. Until then the account's administrators see this, never the
/// login's own data: a person invited who already had a login chose their
/// names for other accounts, and those are theirs to show.
public struct InvitedPerson: Sendable, Equatable, Hashable {
    public var firstName: String
    public var lastName: String
    /// `nil` when none was typed.
    public var phone: String?

    public init(firstName: String, lastName: String, phone: String?) {
        self.firstName = firstName
        self.lastName = lastName
        self.phone = phone
    }
}
