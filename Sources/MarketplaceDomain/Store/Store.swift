/// The narrow storage interface the domain is written against.
///
/// Every ``UserDirectory`` operation runs its business logic (which state
/// allows what, what an invite creates, which audit event and outbox message it
/// writes) *inside one* ``write(_:)`` body, so each operation is exactly one
/// transaction: all of it is committed or none of it is. The bodies are
/// synchronous and receive a ``StoreReader``/``StoreWriter`` that only exposes
/// data operations; no SQL and no rule lives outside the backend.
///
/// A backend only re-implements the reader and writer and runs the bodies
/// away from the caller's thread: `SQLiteStore` (in `MarketplaceSQLite`) on
/// its reader threads and GRDB's writer queue; `PostgresStore` (in `MarketplacePostgres`) runs each body in
/// a `BEGIN ... COMMIT` on one of its pooled connections, on a thread of its
/// own pool, inserting with `ON CONFLICT DO NOTHING` (and a savepoint to name
/// the constraint when a row was not inserted) so that a ``StoreConflict`` does
/// not abort the transaction, and running a write body again when PostgreSQL
/// reports a serialization failure (so a body may run more than once: bodies
/// must only read and write through the store).
///
/// Errors: bodies throw ``DomainError`` (passed through unchanged) or
/// ``StoreConflict`` (a unique constraint hit); a backend maps its own failures
/// to ``DomainError/Kind/unavailable`` (busy, disk full, read-only) or
/// ``DomainError/Kind/internal``, in one place.
public protocol Store: Sendable {
    /// Runs `body` in a read-only transaction that sees one consistent snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T

    /// Runs `body` as ``read(_:)`` does, for a page of a listing (a read that
    /// may walk many index entries and rows): a store may let reads by key
    /// go first, so that pages in progress do not hold them up (never so
    /// long that a page starves). The default is `read`.
    func readPage<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T

    /// Runs `body` in one write transaction, committed when `body` returns and
    /// rolled back when it throws. Writes are serialised.
    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T

    /// Registers `wake`, called (quickly, never blocking) after a transaction
    /// that appended to the change feed commits through ANOTHER process on the
    /// same storage (another daemon of a fleet), and whenever such commits may
    /// have gone unnoticed (e.g. after the store reconnected): the domain then
    /// wakes its change-feed waiters, which read the feed again. Commits made
    /// through this store need no call: the domain signals them itself (a
    /// store may call `wake` for them too). The default does nothing, for a
    /// store only one process writes (SQLite in its data directory).
    func observeCommittedChanges(_ wake: @escaping @Sendable () -> Void)

    /// The membership `id` (with its user and groups), or nil: the same
    /// answer as `read { try $0.accountUser(id: id) }`, for the hottest read
    /// (get account user by an operator or a service), which a store may
    /// answer with one statement outside a transaction of its own (one
    /// statement sees one snapshot). The default is that `read`.
    func readAccountUser(id: String) async throws -> AccountUser?

    /// Makes every change committed before the call readable by the next
    /// ``read(_:)`` (`changes(after:limit:)`, `changeBounds()`): a store that
    /// assigns the feed's positions after commit (PostgreSQL) assigns the
    /// pending ones here. The default does nothing (positions assigned in
    /// the committing transaction).
    func publishCommittedChanges() async throws
}

extension Store {
    public func readPage<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await read(body)
    }

    public func observeCommittedChanges(_ wake: @escaping @Sendable () -> Void) {}

    public func readAccountUser(id: String) async throws -> AccountUser? {
        try await read { try $0.accountUser(id: id) }
    }

    public func publishCommittedChanges() async throws {}
}

/// A unique constraint a write ran into. The domain retries on
/// ``Constraint/primaryKey`` (random id collision) and reports the others as
/// ``DomainError/Kind/alreadyExists``.
public struct StoreConflict: Error, Sendable, Equatable {
    public enum Constraint: String, Sendable {
        /// The random id is taken.
        case primaryKey
        /// Another user has this (normalised) email.
        case userEmail
        /// The user already has a membership of this account.
        case membership
        /// The account already has an administrators' group.
        case administratorsGroup
        /// The account already has a default group.
        case defaultGroup
        /// The invitation or session token hash exists (astronomically unlikely).
        case tokenHash
        /// Another unique constraint.
        case other
    }

    public var constraint: Constraint

    public init(_ constraint: Constraint) {
        self.constraint = constraint
    }
}
