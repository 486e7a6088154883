import ArgumentParser
import Dispatch
import Foundation
import Logging
import MarketplaceDomain
import MarketplacePostgres
import MarketplaceServer
import MarketplaceSQLite
import Synchronization

/// One run of the server, from the effective configuration to `stopped`:
/// systemd notification and socket activation, the metrics endpoint, signals.
///
/// Signals: SIGTERM, SIGINT and SIGQUIT stop gracefully (in-flight calls get
/// the grace period, the socket file is removed); SIGHUP re-reads the log level
/// file; SIGUSR1 and SIGUSR2 are logged and ignored; SIGPIPE is ignored. Every signal is logged;
/// the last line says why the daemon stopped.
struct DaemonRun {
    let settings: ServeSettings
    let logger: Logger
    let levelControl: LogLevelControl

    /// What the signal handlers act on; a stop asked for during start-up
    /// happens as soon as the server is up.
    private final class Lifecycle: Sendable {
        struct State {
            var server: UsersServer?
            var stopReason: String?
        }
        let state = Mutex(State())
    }

    func run() async throws {
        let notifier = SystemdNotifier.fromEnvironment()
        let activation: SocketActivation?
        do {
            activation = try SocketActivation.fromEnvironment()
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        if settings.metricsListen != nil { ServiceMetrics.bootstrap() }

        var configuration = UsersServerConfiguration(
            socketPath: activation?.path ?? settings.socket.value, dataDirectory: settings.dataDir.value)
        configuration.keyFilePath = settings.keyFile
        configuration.rpc.socketMode = settings.socketMode
        configuration.rpc.maxConnections = settings.maxConnections.value
        configuration.rpc.maxConcurrentCallsPerConnection = settings.maxCallsPerConnection.value
        configuration.rpc.shutdownGracePeriod = .seconds(settings.shutdownGrace.value)
        settings.budgets.apply(to: &configuration.rpc)
        configuration.rpc.inheritedListener = activation?.fileDescriptor
        configuration.invitationTTL = settings.invitationTTL
        configuration.invitationBaseURL = settings.invitationBaseURL
        configuration.operators = OperatorPolicy(uids: Set(settings.operatorUIDs), gids: Set(settings.operatorGIDs))
        configuration.services = ServicePolicy(uids: Set(settings.serviceUIDs), gids: Set(settings.serviceGIDs))
        configuration.sessionLifetime = settings.sessionLifetime
        configuration.sessionIdleTimeout = settings.sessionIdleTimeout
        configuration.passwordParameters = settings.passwordParameters
        configuration.hashingThreads = settings.hashingThreads
        if let database = settings.database {
            let storeLogger = logger
            configuration.openStore = { _ in try await PostgresStore.open(database, logger: storeLogger) }
        } else {
            configuration.openStore = { configuration in try SQLiteStore(dataDirectory: configuration.dataDirectory) }
        }

        logEffectiveConfiguration(configuration, activation: activation, notifier: notifier)

        let lifecycle = Lifecycle()
        let signals = installSignalHandlers(lifecycle: lifecycle, notifier: notifier)
        defer { signals.forEach { $0.cancel() } }

        // The metrics endpoint first: if its address is taken, nothing else
        // has been created yet.
        var metrics: MetricsEndpoint?
        if let address = settings.metricsListen {
            do {
                metrics = try await MetricsEndpoint.start(address, beforeScrape: {
                    let server = lifecycle.state.withLock { $0.server }
                    ServiceMetrics.recordConnections(server?.rpc.connectionCount ?? 0)
                    if let server { await OutboxMetrics.recordQueueAge(of: server.directory) }
                }, logger: logger)
            } catch {
                logger.critical("cannot start: \(error)")
                notifier.status("cannot start: \(error)")
                throw ExitCode(1)
            }
            logger.info("serving metrics", metadata: ["metrics": "\(metrics!.address)"])
        }

        let server: UsersServer
        do {
            server = try await UsersServer.start(configuration: configuration, logger: logger)
        } catch {
            await metrics?.close()
            logger.critical("cannot start: \(error)")
            notifier.status("cannot start: \(error)")
            throw ExitCode(1)
        }
        let pendingStop = lifecycle.state.withLock { state -> String? in
            state.server = server
            return state.stopReason
        }
        notifier.ready(status: "serving on \(configuration.rpc.socketPath)")
        if pendingStop != nil {
            Task { await server.shutdownGracefully() }
        }
        let watchdog = Task { await notifier.runWatchdog { await server.isResponsive() } }

        await server.waitUntilClosed()
        watchdog.cancel()
        await metrics?.close()
        let reason = lifecycle.state.withLock { $0.stopReason } ?? "shut down"
        logger.notice("stopped: \(reason)")
    }

    // MARK: Signals

    private static let names: [Int32: String] = [
        SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGHUP: "SIGHUP", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2",
    ]

    private func installSignalHandlers(lifecycle: Lifecycle, notifier: SystemdNotifier) -> [any DispatchSourceSignal] {
        let logger = self.logger
        let reload = self.reload
        // A closed standard error (a vanished log reader) must not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
        return Self.names.keys.sorted().map { number in
            let name = Self.names[number]!
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                switch number {
                case SIGTERM, SIGINT, SIGQUIT:
                    let (server, first) = lifecycle.state.withLock { state -> (UsersServer?, Bool) in
                        let first = state.stopReason == nil
                        if first { state.stopReason = "received \(name)" }
                        return (state.server, first)
                    }
                    guard first else {
                        logger.notice("received \(name): already stopping")
                        return
                    }
                    logger.notice("stopping: received \(name)")
                    notifier.stopping(status: "stopping: received \(name)")
                    if let server { Task { await server.shutdownGracefully() } }
                case SIGHUP:
                    logger.notice("received SIGHUP: re-reading the log level")
                    notifier.send("RELOADING=1")
                    reload()
                    notifier.send("READY=1")
                default:
                    logger.notice("received \(name): ignored")
                }
            }
            source.resume()
            return source
        }
    }

    /// SIGHUP: re-reads `--log-level-file`; a bad file keeps the level in force.
    private func reload() {
        guard let file = settings.logLevelFile else {
            logger.notice("no --log-level-file: nothing to re-read; log level stays \(levelControl.current.rawValue)")
            return
        }
        switch LogLevelFile.read(file) {
        case .failure(let problem):
            logger.error("\(problem); log level stays \(levelControl.current.rawValue)")
        case .success(let level):
            let old = levelControl.current
            levelControl.current = level
            // Logged at the new level or above, so the line is always seen.
            logger.log(
                level: max(.notice, min(level, .error)), "log level \(old.rawValue) -> \(level.rawValue)",
                metadata: ["log_level_file": "\(file)"])
        }
    }

    // MARK: Effective configuration

    private func logEffectiveConfiguration(
        _ configuration: UsersServerConfiguration, activation: SocketActivation?, notifier: SystemdNotifier
    ) {
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
        func seconds(_ duration: Duration) -> String { "\(duration.components.seconds)s" }
        let data = absolute(configuration.dataDirectory)
        logger.info("effective configuration", metadata: [
            "version": "\(ServiceVersion.current)",
            "socket": "\(absolute(configuration.rpc.socketPath))",
            "socket_mode": "\(activation == nil ? "0" + String(configuration.rpc.socketMode, radix: 8) : "set by the socket unit")",
            "socket_activation": "\(activation.map { "fd \($0.fileDescriptor)" } ?? "no")",
            "data_dir": "\(data)",
            "database": "\(settings.database?.displayURL ?? "\(data)/users.sqlite")",
            "database_pool_size": "\(settings.database.map { "\($0.poolSize)" } ?? "none (SQLite)")",
            "database_write_concurrency": "\(settings.database.map { "\($0.writeConcurrency)" } ?? "none (SQLite)")",
            "key_file": "\(configuration.keyFilePath.map(absolute) ?? data + "/secrets.key")",
            "operator_uids": "\(([0, getuid()] + settings.operatorUIDs).map(String.init).joined(separator: ","))",
            "operator_gids": "\(settings.operatorGIDs.map(String.init).joined(separator: ","))",
            "service_uids": "\(settings.serviceUIDs.map(String.init).joined(separator: ","))",
            "service_gids": "\(settings.serviceGIDs.map(String.init).joined(separator: ","))",
            "max_connections": "\(configuration.rpc.maxConnections)",
            "max_calls_per_connection": "\(configuration.rpc.maxConcurrentCallsPerConnection)",
            "max_connections_per_uid": "\(configuration.rpc.maxConnectionsPerUID)",
            "operator_reserved_connections": "\(configuration.rpc.connectionsReservedForOperators)",
            "frame_timeout": "\(configuration.rpc.partialFrameTimeout.nanoseconds / 1_000_000_000)",
            "partial_frame_budget_mib": "\(configuration.rpc.maxPartialFrameBytes >> 20)",
            "shutdown_grace": "\(seconds(configuration.rpc.shutdownGracePeriod))",
            "invitation_ttl": "\(seconds(configuration.invitationTTL))",
            "invitation_base_url": "\(configuration.invitationBaseURL)",
            "session_lifetime": "\(seconds(configuration.sessionLifetime))",
            "session_idle_timeout": "\(seconds(configuration.sessionIdleTimeout))",
            "argon2_opslimit": "\(configuration.passwordParameters.opsLimit)",
            "argon2_memlimit_kib": "\(configuration.passwordParameters.memLimit / 1024)",
            "hashing_threads": "\(configuration.hashingThreads)",
            "log_level": "\(levelControl.current.rawValue)",
            "log_format": "\(settings.logFormat.rawValue)",
            "log_level_file": "\(settings.logLevelFile ?? "none")",
            "metrics_listen": "\(settings.metricsListenText ?? "off")",
            "systemd_notify": "\(notifier.socketPath == nil ? "no" : "yes")",
            "watchdog": "\(notifier.watchdogInterval.map { "\($0)" } ?? "off")",
        ])
    }
}
