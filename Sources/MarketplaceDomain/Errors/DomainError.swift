/// The one error the domain layer throws: a ``Kind`` (which the server maps to a
/// status code) and a human message that names the field or the state involved.
///
/// Messages are safe to show to the caller: they never contain passwords,
/// tokens or storage internals. Unexpected failures are ``Kind/internal`` with a
/// generic message; their cause is logged by whoever produced them.
public struct DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The category of a failure, one per status code the server may return.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// A request field is malformed or out of range.
        case invalidArgument
        /// The named entity does not exist (or the caller may not know it does).
        case notFound
        /// The entity, or a conflicting one, already exists.
        case alreadyExists
        /// The entity's current state does not allow the operation.
        case failedPrecondition
        /// The caller is known but not allowed.
        case permissionDenied
        /// The caller did not prove who they are (e.g. wrong password).
        case unauthenticated
        /// A limit was reached (e.g. too many concurrent hashing requests).
        case resourceExhausted
        /// The storage is temporarily unusable (busy, disk full, read-only).
        case unavailable
        /// A bug or an unexpected storage failure.
        case `internal`
    }

    /// The category of the failure.
    public var kind: Kind
    /// A message for humans naming the field or state involved.
    public var message: String

    /// Creates an error of `kind` with `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    static func invalidArgument(_ message: String) -> DomainError { DomainError(.invalidArgument, message) }
    static func notFound(_ message: String) -> DomainError { DomainError(.notFound, message) }
    static func alreadyExists(_ message: String) -> DomainError { DomainError(.alreadyExists, message) }
    static func failedPrecondition(_ message: String) -> DomainError { DomainError(.failedPrecondition, message) }
    static func permissionDenied(_ message: String) -> DomainError { DomainError(.permissionDenied, message) }
    static func unauthenticated(_ message: String) -> DomainError { DomainError(.unauthenticated, message) }
    static func resourceExhausted(_ message: String) -> DomainError { DomainError(.resourceExhausted, message) }
    static func internalError(_ message: String) -> DomainError { DomainError(.internal, message) }
}
