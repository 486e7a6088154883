import Foundation
import Logging
import MarketplaceDomain
import MarketplaceRPC
import NIOCore
import NIOPosix
import Synchronization

/// The users service: opens its storage, registers every service, serves on
/// the Unix socket until shut down.
public final class UsersServer: Sendable {
    /// The underlying RPC server.
    public let rpc: RPCServer
    /// The configuration it runs with.
    public let configuration: UsersServerConfiguration
    /// The domain operations the services call (for tests and tools in-process).
    public let directory: UserDirectory
    /// The storage it runs on, opened by `configuration.openStore`.
    public let store: any Store

    /// Every `package.Service/Method` the server answers.
    public let registeredMethods: [String]

    /// The one close of the store, awaited by whoever needs it closed.
    private let storeClosing = Mutex<Task<Void, Never>?>(nil)

    private init(
        rpc: RPCServer, configuration: UsersServerConfiguration, directory: UserDirectory, store: any Store, methods: [String]
    ) {
        self.rpc = rpc
        self.configuration = configuration
        self.directory = directory
        self.store = store
        self.registeredMethods = methods
    }

    /// Opens (and migrates) the database with `configuration.openStore`,
    /// loads or creates the key file, binds the socket and starts serving.
    /// - Throws: `RPCServer.StartError`, or a `DomainError` from storage or the
    ///   key file, with a message saying what to fix.
    ///
    /// A refused start creates nothing it did not need: the socket path is
    /// checked before the data directory is touched, and what the start
    /// created (directory, database, key) is removed if it fails later.
    public static func start(configuration: UsersServerConfiguration, logger: Logger) async throws -> UsersServer {
        if configuration.rpc.inheritedListener == nil {
            do {
                try SocketPath.prepare(configuration.rpc.socketPath)
            } catch {
                throw RPCServer.StartError(description: error.description)
            }
        }
        let files = StartupFiles(dataDirectory: configuration.dataDirectory)
        do {
            return try await open(configuration: configuration, logger: logger)
        } catch {
            files.removeCreated()
            throw error
        }
    }

    private static func open(configuration: UsersServerConfiguration, logger: Logger) async throws -> UsersServer {
        try FileManager.default.createDirectory(
            atPath: configuration.dataDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        guard let openStore = configuration.openStore else {
            throw RPCServer.StartError(description: "no storage configured (UsersServerConfiguration.openStore is nil)")
        }
        let store = try await openStore(configuration)
        do {
            return try await serve(store: store, configuration: configuration, logger: logger)
        } catch {
            await (store as? any ClosableStore)?.close()
            throw error
        }
    }

    private static func serve(store: any Store, configuration: UsersServerConfiguration, logger: Logger) async throws -> UsersServer {
        var secretsConfiguration = Secrets.Configuration.inDataDirectory(
            configuration.dataDirectory, passwordParameters: configuration.passwordParameters,
            hashingThreads: configuration.hashingThreads)
        if let keyFile = configuration.keyFilePath {
            secretsConfiguration.keyFilePath = keyFile
            secretsConfiguration.createsKeyFile = false
        }
        let secrets = try Secrets(configuration: secretsConfiguration)
        var directoryConfiguration = DirectoryConfiguration(
            invitationTTL: configuration.invitationTTL, linkBaseURL: configuration.invitationBaseURL)
        directoryConfiguration.sessionLifetime = configuration.sessionLifetime
        directoryConfiguration.sessionIdleTimeout = configuration.sessionIdleTimeout
        let directory = UserDirectory(
            store: store, clock: configuration.clock, secrets: secrets, configuration: directoryConfiguration,
            logger: logger)

        var router = RPCRouter(interceptor: AuthorizationInterceptor(
            directory: directory, policy: .standard, operators: configuration.operators,
            services: configuration.services))
        HealthServiceImpl(version: ServiceVersion.current, storage: store as? any StoreHealth).register(with: &router)
        AccountsServiceImpl(directory: directory).register(with: &router)
        GroupsServiceImpl(directory: directory).register(with: &router)
        AccountUsersServiceImpl(directory: directory).register(with: &router)
        UsersServiceImpl(directory: directory).register(with: &router)
        InvitationsServiceImpl(directory: directory).register(with: &router)
        AuditServiceImpl(directory: directory).register(with: &router)
        OutboxServiceImpl(directory: directory).register(with: &router)
        SessionsServiceImpl(directory: directory).register(with: &router)
        ProfileServiceImpl(directory: directory).register(with: &router)
        AccessServiceImpl(directory: directory).register(with: &router)
        ChangesServiceImpl(directory: directory).register(with: &router)
        if let missing = router.methodNames.first(where: { name in
            let parts = name.split(separator: "/")
            return AccessPolicy.standard.rule(service: String(parts[0]), method: String(parts[1])) == nil
        }) {
            throw RPCServer.StartError(description: "\(missing) has no access rule in the generated AccessPolicy")
        }

        var rpcConfiguration = configuration.rpc
        if rpcConfiguration.isOperator == nil {
            // Operators get the connection places kept for them.
            let operators = configuration.operators
            rpcConfiguration.isOperator = { operators.isOperator($0) }
        }
        let rpc = try await RPCServer.start(
            configuration: rpcConfiguration, router: router, errorMapper: DomainErrorMapping.rpcError, logger: logger)
        logger.info(
            "marketplace-usersd \(ServiceVersion.current) ready",
            metadata: ["socket": "\(configuration.rpc.socketPath)", "data_dir": "\(configuration.dataDirectory)"])
        return UsersServer(rpc: rpc, configuration: configuration, directory: directory, store: store, methods: router.methodNames)
    }

    /// Graceful shutdown; see `RPCServer.shutdownGracefully()`. Then closes
    /// the store if it holds resources (`ClosableStore`).
    public func shutdownGracefully() async {
        await rpc.shutdownGracefully()
        await closeStore()
    }

    /// Closes the store once; every caller waits for that one close to end.
    private func closeStore() async {
        let closing = storeClosing.withLock { closing in
            if let closing { return closing }
            let store = self.store
            let task = Task<Void, Never> {
                if let closable = store as? any ClosableStore { await closable.close() }
            }
            closing = task
            return task
        }
        await closing.value
    }

    /// Whether the server's event loops answer (for the systemd watchdog).
    public func isResponsive() async -> Bool {
        (try? await MultiThreadedEventLoopGroup.singleton.next().submit { true }.get()) ?? false
    }

    /// Returns when the server has shut down and its store is closed: the
    /// process may exit then (the daemon does) without cutting the store's
    /// close short, whichever task called `shutdownGracefully()`.
    public func waitUntilClosed() async {
        await rpc.waitUntilClosed()
        await closeStore()
    }
}
