import CoreMetrics
import MarketplaceDomain
import NIOCore
import PostgresNIO

/// The one place where PostgreSQL failures become domain errors.
enum PostgresErrors {
    /// A write must be run again from the start (serialization failure or
    /// deadlock): never leaves the store.
    struct RetryTransaction: Error {}

    /// What a call on a closed store throws.
    static var storeClosed: DomainError { DomainError(.unavailable, "storage is shutting down") }

    /// SQLSTATEs after which the whole write transaction is run again.
    static let retryStates: Set<String> = ["40001", "40P01"]

    /// The SQLSTATE of a server error, if `error` is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// Whether `error` asks for the transaction to be run again.
    static func isRetryable(_ error: any Error) -> Bool {
        if error is RetryTransaction { return true }
        return sqlState(error).map(retryStates.contains) ?? false
    }

    /// Turns any error escaping a transaction into what the domain throws:
    /// ``DomainError`` and ``StoreConflict`` pass through; a lost or refused
    /// connection, a server shutting down, too many connections, a full disk
    /// or a read-only server (a standby) become `unavailable`; the rest `internal`.
    static func map(_ error: any Error) -> any Error {
        switch error {
        case let error as DomainError:
            return error
        case let conflict as StoreConflict:
            return conflict
        case is CancellationError:
            return DomainError(.unavailable, "the request was cancelled before the storage answered")
        case is RetryTransaction:
            return DomainError(.unavailable, "storage is busy (conflicting writes); retry shortly")
        case let error as PSQLError:
            if let conflict = conflict(error) { return conflict }
            let state = error.serverInfo?[.sqlState]
            Counter(label: "marketplace_storage_errors_total", dimensions: [("code", state ?? "\(error.code)")]).increment()
            guard let state else {
                // No server answer: the connection failed, closed or never opened.
                return DomainError(.unavailable, "storage is unreachable (database connection lost); retry shortly")
            }
            switch state {
            case "40001", "40P01":
                return DomainError(.unavailable, "storage is busy (conflicting writes); retry shortly")
            case "53300", "53400":
                return DomainError(.unavailable, "storage is busy (too many database connections); retry shortly")
            case "53100":
                return DomainError(.unavailable, "storage is full (disk full)")
            case "25006":
                return DomainError(.unavailable, "storage is read-only (the database is a standby)")
            case "55P03", "57014":
                return DomainError(.unavailable, "storage is busy (lock or statement timeout); retry shortly")
            default:
                if state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53") {
                    return DomainError(.unavailable, "storage is unreachable (database connection lost); retry shortly")
                }
                return DomainError(.internal, "unexpected storage failure (SQLSTATE \(state))")
            }
        case is ChannelError, is IOError:
            return DomainError(.unavailable, "storage is unreachable (database connection lost); retry shortly")
        default:
            return DomainError(.internal, "unexpected storage failure")
        }
    }

    /// The unique constraint `error` reports, if it is one (SQLSTATE 23505),
    /// by the constraint's name in the schema.
    static func conflict(_ error: PSQLError) -> StoreConflict? {
        guard error.serverInfo?[.sqlState] == "23505" else { return nil }
        return StoreConflict(constraint(named: error.serverInfo?[.constraintName] ?? ""))
    }

    /// The ``StoreConflict/Constraint`` of a unique constraint or index of ``PostgresSchema``.
    static func constraint(named name: String) -> StoreConflict.Constraint {
        switch name {
        case "users_by_email": .userEmail
        case "account_users_by_account_user": .membership
        case "groups_one_administrators": .administratorsGroup
        case "groups_one_default": .defaultGroup
        case "sessions_by_token_hash": .tokenHash
        case "invitations_one_pending": .other
        case _ where name.hasSuffix("_pkey"): .primaryKey
        default: .other
        }
    }

    /// A short description of `error` for logs (never shown to callers).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            let info = error.serverInfo
            if let state = info?[.sqlState] {
                return "SQLSTATE \(state): \(info?[.message] ?? "")"
            }
            return "\(error.code)"
        }
        return "\(error)"
    }
}
