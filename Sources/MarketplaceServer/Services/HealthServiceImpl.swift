import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.health.v1.Health`: answers SERVING with the server's version,
/// or NOT_SERVING while its storage does not answer (a database server that
/// is down or unreachable; the probe is cheap, cached and time-bounded).
struct HealthServiceImpl: HealthService {
    let version: String
    /// The storage's availability probe; `nil` for storage that is always
    /// there (an embedded file).
    let storage: (any StoreHealth)?

    func check(_ request: HealthCheckRequest, context: RPCContext) async throws -> HealthCheckResponse {
        if let storage, await !storage.isAvailable() {
            return HealthCheckResponse(status: .notServing, version: version)
        }
        return HealthCheckResponse(status: .serving, version: version)
    }
}
