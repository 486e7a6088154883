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
            // SERVING once the storage answers its probe (on PostgreSQL, within 2 s:
            // a loaded machine may need a few tries; `untilServing`).
            let health = await untilServing(client)
            #expect(health?.status == .serving && health?.version == ServiceVersion.current)
            await server.shutdownGracefully()
            await expectRPCError(.unavailable) { try await client.health.check(.init()) }
        }
    }
}
