import Foundation

/// Data reads inside one transaction. Memberships are returned with their
/// *stored* status (never `invitationExpired`); the domain resolves expiry.
public protocol StoreReader {
    func account(id: String) throws -> Account?
    /// Accounts ordered by id, after `afterID`.
    func accounts(after afterID: String?, limit: Int) throws -> [Account]

    func group(id: String) throws -> Group?
    func groups(ids: [String]) throws -> [Group]
    /// Groups of an account ordered by name ignoring case, then id, after `after`.
    func groups(accountID: String, after: (name: String, id: String)?, limit: Int) throws -> [Group]
    /// The account's group whose name equals `name` ignoring case.
    func group(accountID: String, named name: String) throws -> Group?
    func administratorsGroup(accountID: String) throws -> Group?
    func defaultGroup(accountID: String) throws -> Group?
    /// How many memberships not in the stored status `deleted` hold `groupID`
    /// and no other group (those a deletion of the group would leave with none).
    func soleGroupMemberCount(groupID: String) throws -> Int

    func user(id: String) throws -> User?
    /// The user with this normalised email.
    func user(email: String) throws -> User?
    /// Users ordered by id, after `afterID`.
    func users(after afterID: String?, limit: Int) throws -> [User]
    /// The Argon2id hash of a user's password, `nil` when none is set.
    func passwordHash(userID: String) throws -> String?

    func accountUser(id: String) throws -> AccountUser?
    func accountUser(accountID: String, userID: String) throws -> AccountUser?
    /// Every membership of a user, in any status.
    func accountUsers(userID: String) throws -> [AccountUser]
    /// One page of an account's memberships, in the query's keyset order.
    func accountUsers(_ query: AccountUserQuery) throws -> [AccountUser]

    /// The invitation whose token hashes to `tokenHash`.
    func invitation(tokenHash: [UInt8]) throws -> InvitationRecord?
    /// The membership's invitation still in the stored `pending` state, if any.
    func pendingInvitation(accountUserID: String) throws -> InvitationRecord?

    /// An account's audit events, newest first, older than `beforeSequence`.
    func auditEvents(accountID: String, before beforeSequence: Int64?, limit: Int) throws -> [AuditEvent]
    /// An account's audit events matching `filter`, newest first, older than `beforeSequence`.
    func auditEvents(accountID: String, filter: AuditFilter, before beforeSequence: Int64?, limit: Int) throws -> [AuditEvent]
    /// Pending messages and, with `includeFailed`, permanently failed ones,
    /// with an id above `afterID`, oldest first, with their delivery state and
    /// template details.
    func outboxEntries(includeFailed: Bool, afterID: Int64, limit: Int) throws -> [OutboxEntry]

    /// The session whose token hashes to `tokenHash`.
    func session(tokenHash: [UInt8]) throws -> SessionRecord?
    func session(id: String) throws -> SessionRecord?

    /// A membership of `userID` in `accountID` with its account's status and
    /// its groups' permissions, for the access check (one or two indexed look-ups).
    func membershipAccess(accountID: String, userID: String) throws -> MembershipAccess?
    /// Change-feed entries after `position`, oldest first.
    func changes(after position: Int64, limit: Int) throws -> [ChangeRecord]
    /// The range of positions the change feed can serve.
    func changeBounds() throws -> ChangeBounds

    /// When wrong passwords were given for an email key (see
    /// ``SignInThrottle``) after `since`, oldest first, at most `limit`.
    /// Shared by every daemon of a store, so a lockout counts failures
    /// made through any of them.
    func signInFailures(emailKey: String, since: Date, limit: Int) throws -> [Date]
}

/// Data writes inside one transaction (and every read). Inserts throw
/// ``StoreConflict`` when a unique constraint is hit, leaving the transaction usable.
public protocol StoreWriter: StoreReader {
    func insert(_ account: Account) throws
    func insert(_ group: Group) throws
    /// Stores an account's name and status (id, type and creation time never change).
    func update(_ account: Account) throws
    /// Stores a group's name, description and permissions (id, account, the
    /// administrators' and default flags and creation time are not changed here).
    func update(_ group: Group) throws
    /// Deletes a group: first every membership's hold of it, then the group.
    /// Returns whether it existed.
    @discardableResult func deleteGroup(id: String) throws -> Bool
    /// Inserts a user, with a password hash or none.
    func insert(_ user: User, passwordHash: String?) throws
    /// Stores every field of `user` (and keeps memberships' sort keys in step:
    /// the email of each; name and last sign-in of those without `invitedAs`).
    func update(_ user: User) throws
    func setPasswordHash(userID: String, hash: String?) throws
    /// Inserts a membership with its groups.
    func insert(_ accountUser: AccountUser) throws
    /// Stores status, times, expiry, inviter and `invitedAs` of a membership
    /// (not its groups), and its sort keys from `AccountUserQuery.key(of:for:)`
    /// (the person as shown: `accountUser.user` must be current).
    func update(_ accountUser: AccountUser) throws
    /// Replaces a membership's groups.
    func setGroups(accountUserID: String, groupIDs: [String]) throws
    func insert(_ invitation: InvitationRecord) throws
    /// Ends a stored-pending invitation with `state` at `date`.
    func endInvitation(tokenHash: [UInt8], state: InvitationRecord.StoredState, at date: Date) throws
    /// Appends an audit event; its `sequence` is assigned by the store and returned.
    @discardableResult func append(_ event: AuditEvent) throws -> Int64
    /// Appends an outbox message; its `id` is assigned by the store and returned.
    @discardableResult func append(_ entry: OutboxEntry) throws -> Int64
    /// Deletes the unsent messages about a membership: those carrying
    /// `sealedToken` (an invitation link's emails), or all of them when it is
    /// `nil`. Returns how many were.
    @discardableResult func withdrawPendingMessages(accountUserID: String, sealedToken: [UInt8]?) throws -> Int
    /// Marks unsent messages sent; returns how many were.
    func markOutboxSent(ids: [Int64], at date: Date) throws -> Int
    /// Claims up to `limit` deliverable messages (pending, lease free or
    /// expired, retry time reached at `date`), oldest first: each gets
    /// `claimID`, a lease until `leaseUntil` and one more attempt. Returns them
    /// with their template details.
    func claimOutbox(limit: Int, claimID: String, leaseUntil: Date, at date: Date) throws -> [OutboxEntry]
    /// The message with this id, with its delivery state, or `nil`.
    func outboxEntry(id: Int64) throws -> OutboxEntry?
    /// Records a permanent failure (`retryAt` nil: the message becomes
    /// failed) or a temporary one (the claim is released and the message
    /// waits until `retryAt`), with its reason.
    func recordOutboxFailure(id: Int64, reason: String, retryAt: Date?, at date: Date) throws

    /// Inserts a session (``StoreConflict/Constraint/primaryKey`` when the id is taken).
    func insert(_ session: SessionRecord) throws
    /// Stores a session's current account and last use (the rest never changes).
    func update(_ session: SessionRecord) throws
    /// Deletes a session; returns whether it existed.
    @discardableResult func deleteSession(id: String) throws -> Bool
    /// Deletes every session of a user but `keptID`; returns how many were.
    @discardableResult func deleteSessions(userID: String, except keptID: String?) throws -> Int
    /// Deletes at most `limit` sessions past their absolute expiry (`expiresAt <= now`)
    /// or unused since `idleSince` (`lastUsedAt <= idleSince`); returns how many were.
    @discardableResult func deleteExpiredSessions(now: Date, idleSince: Date, limit: Int) throws -> Int

    /// Records a wrong password for an email key at `date`.
    func recordSignInFailure(emailKey: String, at date: Date) throws
    /// Forgets an email key's failures (after a right password).
    func clearSignInFailures(emailKey: String) throws
    /// Deletes at most `limit` failures recorded at or before `date`, of any
    /// email key; returns how many were.
    @discardableResult func deleteSignInFailures(before date: Date, limit: Int) throws -> Int
}
