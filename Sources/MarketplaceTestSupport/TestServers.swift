import Foundation
import Logging
import MarketplaceClient
import MarketplaceDomain
import MarketplaceRPC
import MarketplaceServer

/// A logger that drops everything, for servers started by tests.
public let silentLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// Starts the real users service on a temporary socket and data directory,
/// runs `body` with it and a connected client, then shuts both down.
///
/// Passwords are hashed with libsodium's minimum Argon2id cost so that tests
/// stay fast; `configure` can change that and anything else (e.g. pass a
/// `ManualWallClock` to move time).
/// Pass `directory` to keep the database across servers (the caller removes it).
///
/// The rows are stored on the tests' backend (``TestBackend/current``): SQLite
/// in the data directory, or a database of its own in the test process's
/// PostgreSQL cluster (kept with the directory when `directory` is given,
/// dropped at the end otherwise), unless `configure` sets `openStore` itself.
public func withUsersServer<T>(
    in existing: TemporaryDirectory? = nil,
    configure: (inout UsersServerConfiguration) -> Void = { _ in },
    _ body: (UsersServer, MarketplaceClient) async throws -> T
) async throws -> T {
    let directory = try existing ?? TemporaryDirectory()
    defer { if existing == nil { directory.remove() } }
    var configuration = UsersServerConfiguration(
        socketPath: directory.appending("s.sock"), dataDirectory: directory.appending("data"))
    configuration.passwordParameters = .minimum
    configure(&configuration)
    var storage: TestStorage?
    if configuration.openStore == nil {
        let chosen = try await TestStorage.forDataDirectory(configuration.dataDirectory)
        configuration.openStore = { _ in try await chosen.openStore() }
        storage = chosen
    }
    let server: UsersServer
    do {
        server = try await UsersServer.start(configuration: configuration, logger: silentLogger)
    } catch {
        if existing == nil { await storage?.remove() }
        throw error
    }
    let result = await capturing {
        try await run(body, server, MarketplaceClient(socketPath: configuration.rpc.socketPath)) {
            await $0.shutdownGracefully()
        }
    }
    if existing == nil { await storage?.remove() }
    return try result.get()
}

/// What `body` returned or threw.
private func capturing<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}

/// Starts a bare RPC server with `router` on a temporary socket and runs `body`
/// with it and a client.
public func withRPCServer<T>(
    router: RPCRouter,
    configure: (inout RPCServerConfiguration) -> Void = { _ in },
    _ body: (RPCServer, MarketplaceClient) async throws -> T
) async throws -> T {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    var configuration = RPCServerConfiguration(socketPath: directory.appending("s.sock"))
    configure(&configuration)
    let server = try await RPCServer.start(configuration: configuration, router: router, logger: silentLogger)
    return try await run(body, server, MarketplaceClient(socketPath: configuration.socketPath)) {
        await $0.shutdownGracefully()
    }
}

/// Runs `body`, then closes the client and shuts the server down, whether
/// `body` returned or threw.
private func run<Server, T>(
    _ body: (Server, MarketplaceClient) async throws -> T, _ server: Server, _ client: MarketplaceClient,
    shutdown: (Server) async -> Void
) async throws -> T {
    let result: Result<T, any Error>
    do {
        result = .success(try await body(server, client))
    } catch {
        result = .failure(error)
    }
    await client.close()
    await shutdown(server)
    return try result.get()
}
