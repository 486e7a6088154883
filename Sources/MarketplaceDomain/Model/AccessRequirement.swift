/// Who calls an account administrator's operation, as the server identified
/// them, for the operation to verify in its own transaction before it reads or
/// changes anything else.
///
/// There is no "unchecked" value: every account administrator's operation
/// takes one, and refuses the call unless it is an operator's or the user
/// administers the account, read in the same transaction as the work.
public enum AccessRequirement: Sendable, Hashable {
    /// A platform operator (recognised by the connection's peer credentials):
    /// every account.
    case `operator`(uid: UInt32)
    /// An internal service (recognised by the connection's peer credentials):
    /// every account, for the read-only operations the contract opens to
    /// services (the server's access table refuses it every other method).
    case service(uid: UInt32)
    /// A signed-in user who must be an active member of `accountID` (their
    /// session's current account) in its administrators' group. `target` is
    /// the id the request's target field named (an account, membership or
    /// group id): the operation refuses to act on any other id, and answers
    /// for an entity of another account exactly as for an unknown id.
    case administrator(userID: String, accountID: String, target: String)
}
