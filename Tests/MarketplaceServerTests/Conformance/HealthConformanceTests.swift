import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// marketplace.health.v1.Health, promise by promise.
@Suite("Conformance: Health")
struct HealthConformanceTests {
    // contract: marketplace.health.v1.Health/Check UNAVAILABLE
    @Test("Check: SERVING and the version, without credentials; UNAVAILABLE once the server has shut down")
    func check() async throws {
        try await withUsersServer { server, client in
            let health = try await client.health.check(.init())
            #expect(health.status == .serving && health.version == ServiceVersion.current)
            await server.shutdownGracefully()
            await expectRPCError(.unavailable) { try await client.health.check(.init()) }
        }
    }
}
