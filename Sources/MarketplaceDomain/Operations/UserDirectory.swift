import Foundation
import Logging

/// The product's operations: accounts, groups, memberships, invitations,
/// users, audit trail and outbox, as the server's handlers call them.
///
/// Every mutating operation takes the ``Actor`` who acts (recorded in the audit
/// trail) and is exactly one ``Store/write(_:)`` transaction in which its rules
/// are checked and all its effects (entity changes, audit event, outbox
/// message) are written. Operations that need password hashing do it first, on
/// the dedicated hashing threads of ``Secrets``, then re-check in the transaction.
///
/// Every operation of an account administrator (on an account, its groups,
/// memberships, invitations and audit trail) takes the caller's
/// ``AccessRequirement`` and checks it first, in its own transaction: an
/// operator passes; a user must be an active administrator of their current
/// account, else `permissionDenied`. There is no way to call one unchecked.
/// An entity of another account answers exactly like an unknown id
/// (`notFound`, same message); another account's id in `account_id` answers
/// like any id that is not the caller's current account (`permissionDenied`).
///
/// Session and profile operations (sign-in, sign-out, account switch, profile,
/// password) act for the user their arguments name; they are not account
/// actions and are not written to any account's audit trail.
///
/// Every operation throws only ``DomainError``; each method lists the kinds it
/// may throw. Any method may also throw ``DomainError/Kind/unavailable`` or
/// ``DomainError/Kind/internal`` for storage failures.
public final class UserDirectory: Sendable {
    let store: any Store
    let clock: any WallClock
    let secrets: Secrets
    let configuration: DirectoryConfiguration
    let logger: Logger
    let signInThrottle: SignInThrottle
    /// Wakes change-feed callers waiting for a commit.
    let changeSignal = ChangeSignal()

    /// Creates a directory over `store`. Failed sign-ins are throttled by
    /// `signInThrottle`, by default one with the default limits on `clock`.
    public init(
        store: any Store, clock: any WallClock, secrets: Secrets, configuration: DirectoryConfiguration = DirectoryConfiguration(),
        logger: Logger, signInThrottle: SignInThrottle? = nil
    ) {
        self.store = store
        self.clock = clock
        self.secrets = secrets
        self.configuration = configuration
        self.logger = logger
        self.signInThrottle = signInThrottle ?? SignInThrottle(clock: clock)
        // Commits of other daemons on the same database wake this one's waiters too.
        store.observeCommittedChanges { [changeSignal] in changeSignal.signal() }
    }

    /// The current time at storage precision.
    func now() -> Date { clock.now().truncatedToMilliseconds }

    /// The link for a token.
    func link(for token: String) -> String { configuration.linkBaseURL + token }

    /// Runs `body` in one write transaction, turning unique-constraint conflicts
    /// that escape the body into ``DomainError/Kind/alreadyExists``.
    func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        do {
            let result = try await store.write(body)
            changeSignal.signal()
            logger.debug("operation committed", metadata: ["operation": "\(operation)"])
            return result
        } catch let conflict as StoreConflict {
            throw DomainError(.alreadyExists, "\(operation): conflicts with an existing entry (\(conflict.constraint.rawValue))")
        } catch let error as DomainError {
            if error.kind == .internal || error.kind == .unavailable {
                logger.error("operation failed", metadata: ["operation": "\(operation)", "error": "\(error)"])
            }
            throw error
        }
    }

    /// Runs `body` in a read transaction.
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await store.read(body)
    }

    /// Runs `body`, a page of a listing, in a read transaction
    /// (``Store/readPage(_:)``: reads by key may go first).
    func readPage<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await store.readPage(body)
    }
}

// MARK: - Helpers shared by the operations (run inside transactions)

extension UserDirectory {
    /// Inserts with fresh random ids until one is free.
    static func withFreshID<T>(_ kind: EntityKind, _ insert: (String) throws -> T) throws -> T {
        for _ in 0..<16 {
            do {
                return try insert(kind.generate())
            } catch let conflict as StoreConflict where conflict.constraint == .primaryKey {
                continue
            }
        }
        throw DomainError(.internal, "could not allocate a unique \(kind.fieldName) id")
    }

    static func requireAccount(_ r: any StoreReader, _ id: String) throws -> Account {
        guard let account = try r.account(id: id) else { throw DomainError.notFound("account \(id): not found") }
        return account
    }

    static func requireUser(_ r: any StoreReader, _ id: String) throws -> User {
        guard let user = try r.user(id: id) else { throw DomainError.notFound("user \(id): not found") }
        return user
    }

    /// The membership, with expiry resolved at `now`.
    static func requireMembership(_ r: any StoreReader, _ id: String, now: Date) throws -> AccountUser {
        guard let member = try r.accountUser(id: id) else { throw DomainError.notFound("account_user \(id): not found") }
        return member.resolved(at: now)
    }

    /// Checks that every id names a group of `accountID`; a group of another
    /// account answers exactly like an unknown one.
    static func requireGroups(_ r: any StoreReader, _ ids: [String], accountID: String, field: String = "group_ids") throws -> [Group] {
        let found = Dictionary(uniqueKeysWithValues: try r.groups(ids: ids).map { ($0.id, $0) })
        var result: [Group] = []
        for (index, id) in ids.enumerated() {
            guard let group = found[id], group.accountID == accountID else {
                throw DomainError.notFound("\(field)[\(index)]: group \(id) not found in account \(accountID)")
            }
            result.append(group)
        }
        return result
    }

    /// The name shown as the inviter for `actor`.
    static func displayName(of actor: Actor, _ r: any StoreReader, configuration: DirectoryConfiguration) throws -> String {
        switch actor {
        case .operator: return configuration.operatorDisplayName
        case .user(let id):
            let name = try r.user(id: id)?.displayName ?? ""
            return name.isEmpty ? configuration.operatorDisplayName : name
        case .anonymous: return configuration.operatorDisplayName
        }
    }

    /// Ends a stored-pending invitation and withdraws its unsent emails in the
    /// same transaction: the mail sender never mails a link that no longer works.
    static func endInvitation(_ w: any StoreWriter, _ invitation: InvitationRecord, _ state: InvitationRecord.StoredState, at now: Date) throws {
        try w.endInvitation(tokenHash: invitation.tokenHash, state: state, at: now)
        try w.withdrawPendingMessages(accountUserID: invitation.accountUserID, sealedToken: invitation.sealedToken)
    }

    static func audit(
        _ w: any StoreWriter, _ action: AuditEvent.Action, accountID: String?, target: String, actor: Actor, at: Date, details: String = ""
    ) throws {
        try w.append(AuditEvent(sequence: 0, accountID: accountID, at: at, actor: actor.auditDescription, action: action, targetID: target, details: details))
    }
}
