/// What a method requires of its caller.
enum AccessRule: Sendable, Hashable {
    /// Anyone who can open the socket, without credentials.
    case everyone
    /// A signed-in person, with or without an account (their own data only).
    case signedInUser
    /// An operator, or an administrator of the account the request targets,
    /// which must be the session's current account.
    case accountAdministrator
    /// Platform operators only.
    case operatorOnly
}
