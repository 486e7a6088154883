import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC
@testable import MarketplaceServer
import MarketplaceSQLite
import MarketplaceTestSupport
import Testing

/// The server binds the authorization interceptor to each method once, at
/// start (`RPCInterceptor.bound(toService:method:)`): the bound copy applies
/// that method's rule, looked up then, and stays closed for a method the
/// contract gives no rule.
@Suite("Authorization bound to one method at start")
struct BoundInterceptorTests {
    private static func context(_ service: String, _ method: String) -> RPCContext {
        RPCContext(
            service: service, method: method, streamID: 1, metadata: [:], deadline: nil,
            peer: PeerCredentials(pid: 1, uid: 65534, gid: 65534), logger: silentLogger)
    }

    @Test("each bound copy applies its own method's rule; a method without a rule is refused, bound or not")
    func boundRules() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(dataDirectory: directory.path)
        let secrets = try Secrets(configuration: .inDataDirectory(directory.path, passwordParameters: .minimum, hashingThreads: 1))
        let users = UserDirectory(store: store, clock: ManualWallClock(), secrets: secrets, logger: silentLogger)
        let interceptor = AuthorizationInterceptor(
            directory: users, policy: .standard, operators: OperatorPolicy(includesRootAndServerUser: false))
        let health = ("marketplace.health.v1.Health", "Check")
        let create = ("marketplace.users.v1.Accounts", "CreateAccount")

        // Open to everyone: an anonymous peer passes.
        var anonymous = Self.context(health.0, health.1)
        try await interceptor.bound(toService: health.0, method: health.1)
            .intercept(request: HealthCheckRequest(), context: &anonymous)
        #expect(anonymous.caller == .anonymous)

        // Operators only: the same anonymous peer is refused.
        var refused = Self.context(create.0, create.1)
        let operatorOnly = interceptor.bound(toService: create.0, method: create.1)
        let error = await #expect(throws: RPCError.self) {
            try await operatorOnly.intercept(request: CreateAccountRequest(name: "A"), context: &refused)
        }
        #expect(error?.code == .unauthenticated)

        // No rule in the contract: refused by the bound copy and by the
        // interceptor itself, before anything else is looked at.
        for candidate in [interceptor.bound(toService: "marketplace.users.v1.Accounts", method: "Unlisted"), interceptor] {
            var unlisted = Self.context("marketplace.users.v1.Accounts", "Unlisted")
            let error = await #expect(throws: RPCError.self) {
                try await candidate.intercept(request: HealthCheckRequest(), context: &unlisted)
            }
            #expect(error?.code == .permissionDenied)
            #expect(error?.message.contains("has no access rule") == true)
        }
    }
}
