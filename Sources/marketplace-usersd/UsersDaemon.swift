import ArgumentParser
import Dispatch
import Foundation
import Logging
import MarketplaceDomain
import MarketplaceServer

/// `marketplace-usersd`: parses options, sets up logging, runs the server until
/// SIGTERM or SIGINT, then shuts down gracefully.
@main
struct UsersDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marketplace-usersd",
        abstract: "The marketplace users and invitations service, on a Unix socket.",
        discussion: """
            Every option can also be set by the environment variable named in its help.
            Example:
              marketplace-usersd --socket ./marketplace-users.sock --data-dir ./data
            """,
        version: ServiceVersion.current)

    @Option(help: "Unix socket path to listen on (env MARKETPLACE_USERS_SOCKET).")
    var socket: String = env("MARKETPLACE_USERS_SOCKET") ?? UsersServerConfiguration.defaultSocketPath

    @Option(help: "Directory of the SQLite database and key file (env MARKETPLACE_USERS_DATA_DIR).")
    var dataDir: String = env("MARKETPLACE_USERS_DATA_DIR") ?? UsersServerConfiguration.defaultDataDirectory

    @Option(help: "Octal mode of the socket file (env MARKETPLACE_USERS_SOCKET_MODE).")
    var socketMode: String = env("MARKETPLACE_USERS_SOCKET_MODE") ?? "0660"

    @Option(help: "Most connections served at once (env MARKETPLACE_USERS_MAX_CONNECTIONS).")
    var maxConnections: Int = env("MARKETPLACE_USERS_MAX_CONNECTIONS").flatMap(Int.init) ?? 1024

    @Option(help: "Most calls in flight per connection (env MARKETPLACE_USERS_MAX_CALLS_PER_CONNECTION).")
    var maxCallsPerConnection: Int = env("MARKETPLACE_USERS_MAX_CALLS_PER_CONNECTION").flatMap(Int.init) ?? 256

    @Option(help: "Seconds in-flight calls may take to finish at shutdown (env MARKETPLACE_USERS_SHUTDOWN_GRACE).")
    var shutdownGrace: Int = env("MARKETPLACE_USERS_SHUTDOWN_GRACE").flatMap(Int.init) ?? 10

    @Option(help: "How long invitation links work, e.g. 7d, 36h, 90s (env MARKETPLACE_USERS_INVITATION_TTL).")
    var invitationTTL: String = env("MARKETPLACE_USERS_INVITATION_TTL") ?? "7d"

    @Option(help: "Invitation links are this URL plus the token (env MARKETPLACE_USERS_INVITATION_BASE_URL).")
    var invitationBaseURL: String = env("MARKETPLACE_USERS_INVITATION_BASE_URL") ?? "https://marketplace.example/invitations/"

    @Option(name: .customLong("operator-uid"), help: "A uid whose connections act as platform operators; repeatable (env MARKETPLACE_USERS_OPERATOR_UIDS, comma-separated). Root and the server's own uid always are.")
    var operatorUIDs: [UInt32] = envList("MARKETPLACE_USERS_OPERATOR_UIDS")

    @Option(name: .customLong("operator-gid"), help: "A primary gid whose connections act as platform operators; repeatable (env MARKETPLACE_USERS_OPERATOR_GIDS).")
    var operatorGIDs: [UInt32] = envList("MARKETPLACE_USERS_OPERATOR_GIDS")

    @Option(name: .customLong("service-uid"), help: "A uid whose connections act as internal services (read-only lookups, access checks, change feed); repeatable (env MARKETPLACE_USERS_SERVICE_UIDS, comma-separated). An operator stays an operator.")
    var serviceUIDs: [UInt32] = envList("MARKETPLACE_USERS_SERVICE_UIDS")

    @Option(name: .customLong("service-gid"), help: "A primary gid whose connections act as internal services; repeatable (env MARKETPLACE_USERS_SERVICE_GIDS).")
    var serviceGIDs: [UInt32] = envList("MARKETPLACE_USERS_SERVICE_GIDS")

    @Option(help: "A session ends this long after sign-in, e.g. 12h (env MARKETPLACE_USERS_SESSION_LIFETIME).")
    var sessionLifetime: String = env("MARKETPLACE_USERS_SESSION_LIFETIME") ?? "12h"

    @Option(help: "A session ends after this long unused, e.g. 30m (env MARKETPLACE_USERS_SESSION_IDLE_TIMEOUT).")
    var sessionIdleTimeout: String = env("MARKETPLACE_USERS_SESSION_IDLE_TIMEOUT") ?? "30m"

    @Option(help: "Argon2id passes (env MARKETPLACE_USERS_ARGON2_OPSLIMIT; default libsodium's interactive, 2).")
    var argon2Opslimit: UInt64 = env("MARKETPLACE_USERS_ARGON2_OPSLIMIT").flatMap(UInt64.init) ?? PasswordParameters.interactive.opsLimit

    @Option(help: "Argon2id memory in KiB (env MARKETPLACE_USERS_ARGON2_MEMLIMIT_KIB; default libsodium's interactive, 65536).")
    var argon2MemlimitKib: Int = env("MARKETPLACE_USERS_ARGON2_MEMLIMIT_KIB").flatMap(Int.init) ?? PasswordParameters.interactive.memLimit / 1024

    @Option(help: "Password hashes computed at once (env MARKETPLACE_USERS_HASHING_THREADS).")
    var hashingThreads: Int = env("MARKETPLACE_USERS_HASHING_THREADS").flatMap(Int.init) ?? 2

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env MARKETPLACE_USERS_LOG_LEVEL).")
    var logLevel: String = env("MARKETPLACE_USERS_LOG_LEVEL") ?? "info"

    func validate() throws {
        guard UInt32(socketMode, radix: 8).map({ $0 <= 0o777 }) == true else {
            throw ValidationError("--socket-mode must be an octal mode such as 0660, not '\(socketMode)'")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be at least 1") }
        guard maxCallsPerConnection > 0 else { throw ValidationError("--max-calls-per-connection must be at least 1") }
        guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must not be negative") }
        do {
            _ = try parseDuration(invitationTTL, field: "--invitation-ttl")
        } catch {
            throw ValidationError(error.message)
        }
        for (flag, value) in [("--session-lifetime", sessionLifetime), ("--session-idle-timeout", sessionIdleTimeout)] {
            do {
                _ = try parseDuration(value, field: flag)
            } catch {
                throw ValidationError(error.message)
            }
        }
        let minimum = PasswordParameters.minimum
        guard argon2Opslimit >= minimum.opsLimit, argon2MemlimitKib * 1024 >= minimum.memLimit else {
            throw ValidationError("--argon2-opslimit must be at least \(minimum.opsLimit) and --argon2-memlimit-kib at least \(minimum.memLimit / 1024)")
        }
        guard (1...64).contains(hashingThreads) else { throw ValidationError("--hashing-threads must be between 1 and 64") }
        guard invitationBaseURL.hasPrefix("https://") || invitationBaseURL.hasPrefix("http://") else {
            throw ValidationError("--invitation-base-url must start with https:// or http://")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "marketplace-usersd")

        var configuration = UsersServerConfiguration(socketPath: socket, dataDirectory: dataDir)
        configuration.rpc.socketMode = UInt32(socketMode, radix: 8)!
        configuration.rpc.maxConnections = maxConnections
        configuration.rpc.maxConcurrentCallsPerConnection = maxCallsPerConnection
        configuration.rpc.shutdownGracePeriod = .seconds(shutdownGrace)
        configuration.invitationTTL = try parseDuration(invitationTTL, field: "--invitation-ttl")
        configuration.invitationBaseURL = invitationBaseURL
        configuration.operators = OperatorPolicy(uids: Set(operatorUIDs), gids: Set(operatorGIDs))
        configuration.services = ServicePolicy(uids: Set(serviceUIDs), gids: Set(serviceGIDs))
        configuration.sessionLifetime = try parseDuration(sessionLifetime, field: "--session-lifetime")
        configuration.sessionIdleTimeout = try parseDuration(sessionIdleTimeout, field: "--session-idle-timeout")
        configuration.passwordParameters = PasswordParameters(opsLimit: argon2Opslimit, memLimit: argon2MemlimitKib * 1024)
        configuration.hashingThreads = hashingThreads

        let server: UsersServer
        do {
            server = try await UsersServer.start(configuration: configuration, logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        let signals = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                logger.info("received signal \(number)")
                Task { await server.shutdownGracefully() }
            }
            source.resume()
            return source
        }
        await server.waitUntilClosed()
        signals.forEach { $0.cancel() }
    }
}

private func envList(_ name: String) -> [UInt32] {
    (env(name) ?? "").split(separator: ",").compactMap { UInt32($0.trimmingCharacters(in: .whitespaces)) }
}

private func env(_ name: String) -> String? {
    ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
}
