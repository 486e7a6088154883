/// What a method requires of its caller, as its rpc declares it in the
/// contract (`option (marketplace.options.v1.access)`; see AccessTable.swift).
enum AccessRule: Sendable {
    /// Anyone who can open the socket, without credentials.
    case everyone
    /// A signed-in person, with or without an account (their own data only).
    case signedInUser
    /// An operator, or an administrator of the account the request targets,
    /// which must be the session's current account. The interceptor reads the
    /// target through `AccessTarget`; the domain operation verifies the
    /// administrator's rights in its own transaction.
    case accountAdministrator(AccessTarget)
    /// Platform operators only.
    case operatorOnly
}
