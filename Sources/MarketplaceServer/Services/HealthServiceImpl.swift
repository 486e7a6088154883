import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.health.v1.Health`: answers SERVING with the server's version.
struct HealthServiceImpl: HealthService {
    let version: String

    func check(_ request: HealthCheckRequest, context: RPCContext) async throws -> HealthCheckResponse {
        HealthCheckResponse(status: .serving, version: version)
    }
}
