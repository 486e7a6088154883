import MarketplaceDomain
import MarketplaceRPC

/// The one place where domain errors become status codes.
enum DomainErrorMapping {
    static func rpcError(_ error: any Error) -> RPCError? {
        guard let error = error as? DomainError else { return nil }
        let code: StatusCode = switch error.kind {
        case .invalidArgument: .invalidArgument
        case .notFound: .notFound
        case .alreadyExists: .alreadyExists
        case .failedPrecondition: .failedPrecondition
        case .permissionDenied: .permissionDenied
        case .unauthenticated: .unauthenticated
        case .resourceExhausted: .resourceExhausted
        case .unavailable: .unavailable
        case .internal: .internal
        }
        return RPCError(code, error.message)
    }
}
