import Foundation
import Logging
import MarketplaceRPC
import NIOCore
import NIOPosix

/// The users service: opens its storage, registers every service, serves on
/// the Unix socket until shut down.
public final class UsersServer: Sendable {
    /// The underlying RPC server.
    public let rpc: RPCServer
    /// The configuration it runs with.
    public let configuration: UsersServerConfiguration

    private init(rpc: RPCServer, configuration: UsersServerConfiguration) {
        self.rpc = rpc
        self.configuration = configuration
    }

    /// Opens storage, binds the socket and starts serving.
    /// - Throws: `RPCServer.StartError` or a storage error, with a message
    ///   saying what to fix.
    public static func start(configuration: UsersServerConfiguration, logger: Logger) async throws -> UsersServer {
        try FileManager.default.createDirectory(
            atPath: configuration.dataDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        var router = RPCRouter()
        HealthServiceImpl(version: ServiceVersion.current).register(with: &router)
        let rpc = try await RPCServer.start(configuration: configuration.rpc, router: router, logger: logger)
        logger.info(
            "marketplace-usersd \(ServiceVersion.current) ready",
            metadata: ["socket": "\(configuration.rpc.socketPath)", "data_dir": "\(configuration.dataDirectory)"])
        return UsersServer(rpc: rpc, configuration: configuration)
    }

    /// Graceful shutdown; see `RPCServer.shutdownGracefully()`.
    public func shutdownGracefully() async {
        await rpc.shutdownGracefully()
    }

    /// Returns when the server has shut down.
    public func waitUntilClosed() async {
        await rpc.waitUntilClosed()
    }
}
