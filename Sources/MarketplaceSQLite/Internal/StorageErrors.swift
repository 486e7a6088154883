import CoreMetrics
import GRDB
import MarketplaceDomain

/// The one place where SQLite failures become domain errors.
enum StorageErrors {
    /// Turns any error escaping a transaction into what the domain throws:
    /// ``DomainError`` and ``StoreConflict`` pass through; busy, locked, full,
    /// read-only and I/O failures become `unavailable`; the rest `internal`.
    static func map(_ error: any Error) -> any Error {
        switch error {
        case let error as DomainError:
            return error
        case let conflict as StoreConflict:
            return conflict
        case is CancellationError:
            return DomainError(.unavailable, "the request was cancelled before the storage answered")
        case let error as DatabaseError:
            if let conflict = conflict(error) { return conflict }
            Counter(label: "marketplace_storage_errors_total", dimensions: [("code", "\(error.resultCode.primaryResultCode.rawValue)")]).increment()
            switch error.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return DomainError(.unavailable, "storage is busy; retry shortly")
            case .SQLITE_FULL:
                return DomainError(.unavailable, "storage is full (disk full)")
            case .SQLITE_READONLY:
                return DomainError(.unavailable, "storage is read-only")
            case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_NOLFS, .SQLITE_PROTOCOL:
                return DomainError(.unavailable, "storage cannot be accessed (I/O error)")
            case .SQLITE_CORRUPT, .SQLITE_NOTADB:
                return DomainError(.internal, "storage is damaged (database file corrupt)")
            default:
                return DomainError(.internal, "unexpected storage failure (\(error.resultCode))")
            }
        default:
            return DomainError(.internal, "unexpected storage failure")
        }
    }

    /// The unique constraint `error` reports, if it is one.
    static func conflict(_ error: DatabaseError) -> StoreConflict? {
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_PRIMARYKEY:
            return StoreConflict(.primaryKey)
        case .SQLITE_CONSTRAINT_UNIQUE:
            let message = error.message ?? ""
            if message.contains("invitations.account_user_id") { return StoreConflict(.other) }
            if message.contains("users.email") { return StoreConflict(.userEmail) }
            // The pair's unique index lists the user first since migration 0009.
            if message.contains("account_users.user_id, account_users.account_id")
                || message.contains("account_users.account_id, account_users.user_id") { return StoreConflict(.membership) }
            if message.contains("groups.is_administrators") { return StoreConflict(.administratorsGroup) }
            if message.contains("groups.is_default") { return StoreConflict(.defaultGroup) }
            if message.contains("invitations.token_hash") { return StoreConflict(.tokenHash) }
            if message.contains("sessions.token_hash") { return StoreConflict(.tokenHash) }
            return StoreConflict(.other)
        default:
            return nil
        }
    }

    /// Runs `body`, reporting a unique-constraint failure as ``StoreConflict``
    /// (the statement is undone, the transaction stays usable).
    static func conflictMapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            if let conflict = conflict(error) { throw conflict }
            throw error
        }
    }
}
