import ArgumentParser
import Foundation
import Logging
import MarketplaceDomain
import MarketplacePostgres
import MarketplaceServer

/// One setting's value and where it came from: a flag, an environment
/// variable, or the default. Messages name the source the operator wrote.
struct Sourced<Value> {
    let value: Value
    /// `--flag`, `VARIABLE`, or the flag for a default.
    let name: String
    /// Neither the flag nor the variable was given.
    var isDefault = false
}

/// Resolves every option of `serve`: the flag if given, else its environment
/// variable, else the default. An environment variable is parsed exactly as
/// strictly as its flag, and an error names the variable (exit 64).
struct SettingSource {
    let environment: [String: String]

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The variable's value; an empty variable counts as unset.
    func variable(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A scalar: `flag` if given, else `variable` parsed by `parse`, else `fallback`.
    func value<T>(
        _ flagValue: T?, flag: String, variable name: String, default fallback: T, expected: String,
        parse: (String) -> T?
    ) throws -> Sourced<T> {
        if let flagValue { return Sourced(value: flagValue, name: flag) }
        if let text = variable(name) {
            guard let parsed = parse(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("\(name) must be \(expected), not '\(text)'")
            }
            return Sourced(value: parsed, name: name)
        }
        return Sourced(value: fallback, name: flag, isDefault: true)
    }

    /// A string: `flag` if given, else `variable`, else `fallback`.
    func string(_ flagValue: String?, flag: String, variable name: String, default fallback: String) -> Sourced<String> {
        if let flagValue { return Sourced(value: flagValue, name: flag) }
        if let text = variable(name) { return Sourced(value: text, name: name) }
        return Sourced(value: fallback, name: flag, isDefault: true)
    }

    /// A list of ids: the repeated flag if given, else the comma-separated
    /// variable, every entry a valid id (an entry that is not one refuses the
    /// start instead of being dropped).
    func ids(_ flagValues: [UInt32], flag: String, variable name: String) throws -> Sourced<[UInt32]> {
        if !flagValues.isEmpty { return Sourced(value: flagValues, name: flag) }
        guard let text = variable(name) else { return Sourced(value: [], name: flag, isDefault: true) }
        var ids: [UInt32] = []
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            guard let id = UInt32(trimmed) else {
                throw ValidationError("\(name) must be comma-separated numeric ids, not '\(text)' ('\(trimmed)' is not an id)")
            }
            ids.append(id)
        }
        return Sourced(value: ids, name: name)
    }
}

/// `serve`'s settings, resolved and checked.
struct ServeSettings {
    enum LogFormat: String, CaseIterable {
        case text, json
    }

    var socket: Sourced<String>
    var dataDir: Sourced<String>
    /// The PostgreSQL database (`--database`), `nil` for SQLite in the data directory.
    var database: PostgresStoreConfiguration?
    /// `--key-file` if given (must exist), else `nil`: `<data-dir>/secrets.key`.
    var keyFile: String?
    var socketMode: UInt32
    var maxConnections: Sourced<Int>
    var maxCallsPerConnection: Sourced<Int>
    var shutdownGrace: Sourced<Int>
    var budgets: ConnectionBudgets
    var invitationTTL: Duration
    var invitationBaseURL: String
    var operatorUIDs: [UInt32]
    var operatorGIDs: [UInt32]
    var serviceUIDs: [UInt32]
    var serviceGIDs: [UInt32]
    var sessionLifetime: Duration
    var sessionIdleTimeout: Duration
    var passwordParameters: PasswordParameters
    var hashingThreads: Int
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var logLevelFile: String?
    var metricsListen: MetricsEndpoint.Address?
    var metricsListenText: String?

    init(_ o: Serve, source: SettingSource = SettingSource()) throws {
        socket = source.string(
            o.socket, flag: "--socket", variable: "MARKETPLACE_USERS_SOCKET",
            default: UsersServerConfiguration.defaultSocketPath)
        dataDir = source.string(
            o.dataDir, flag: "--data-dir", variable: "MARKETPLACE_USERS_DATA_DIR",
            default: UsersServerConfiguration.defaultDataDirectory)

        let databaseURL = source.string(o.database, flag: "--database", variable: "MARKETPLACE_USERS_DATABASE", default: "")
        let poolSize = try source.value(
            o.databasePoolSize, flag: "--database-pool-size", variable: "MARKETPLACE_USERS_DATABASE_POOL_SIZE",
            default: PostgresStoreConfiguration.defaultPoolSize, expected: "an integer between 1 and \(PostgresStoreConfiguration.maxPoolSize)",
            parse: { Int($0) })
        guard (1...PostgresStoreConfiguration.maxPoolSize).contains(poolSize.value) else {
            throw ValidationError("\(poolSize.name) must be between 1 and \(PostgresStoreConfiguration.maxPoolSize)")
        }
        let writeConcurrency = try source.value(
            o.databaseWriteConcurrency, flag: "--database-write-concurrency", variable: "MARKETPLACE_USERS_DATABASE_WRITE_CONCURRENCY",
            default: min(PostgresStoreConfiguration.defaultWriteConcurrency, poolSize.value),
            expected: "an integer between 1 and the pool size", parse: { Int($0) })
        guard (1...poolSize.value).contains(writeConcurrency.value) else {
            throw ValidationError("\(writeConcurrency.name) must be between 1 and the pool size (\(poolSize.value))")
        }
        if databaseURL.value.isEmpty {
            // PostgreSQL's own settings mean nothing on SQLite: refused, naming where they came from.
            for setting in [(poolSize.name, poolSize.isDefault), (writeConcurrency.name, writeConcurrency.isDefault)] where !setting.1 {
                throw ValidationError("\(setting.0) is only used with --database (PostgreSQL)")
            }
        } else {
            do {
                var configuration = try PostgresStoreConfiguration(url: databaseURL.value, poolSize: poolSize.value)
                configuration.writeConcurrency = writeConcurrency.value
                database = configuration
            } catch {
                throw ValidationError("\(databaseURL.name): \(error.message)")
            }
        }
        let key = source.string(o.keyFile, flag: "--key-file", variable: "MARKETPLACE_USERS_KEY_FILE", default: "")
        keyFile = key.value.isEmpty ? nil : key.value

        let mode = source.string(o.socketMode, flag: "--socket-mode", variable: "MARKETPLACE_USERS_SOCKET_MODE", default: "0660")
        guard let parsedMode = UInt32(mode.value, radix: 8), parsedMode <= 0o777 else {
            throw ValidationError("\(mode.name) must be an octal mode such as 0660, not '\(mode.value)'")
        }
        socketMode = parsedMode

        maxConnections = try source.value(
            o.maxConnections, flag: "--max-connections", variable: "MARKETPLACE_USERS_MAX_CONNECTIONS", default: 1024,
            expected: "an integer", parse: { Int($0) })
        guard maxConnections.value > 0 else { throw ValidationError("\(maxConnections.name) must be at least 1") }
        maxCallsPerConnection = try source.value(
            o.maxCallsPerConnection, flag: "--max-calls-per-connection",
            variable: "MARKETPLACE_USERS_MAX_CALLS_PER_CONNECTION", default: 256, expected: "an integer", parse: { Int($0) })
        guard maxCallsPerConnection.value > 0 else { throw ValidationError("\(maxCallsPerConnection.name) must be at least 1") }
        shutdownGrace = try source.value(
            o.shutdownGrace, flag: "--shutdown-grace", variable: "MARKETPLACE_USERS_SHUTDOWN_GRACE", default: 10,
            expected: "a whole number of seconds", parse: { Int($0) })
        guard shutdownGrace.value >= 0 else { throw ValidationError("\(shutdownGrace.name) must not be negative") }
        budgets = try ConnectionBudgets(o.budgets, maxConnections: maxConnections, source: source)

        func duration(_ flagValue: String?, flag: String, variable: String, default fallback: String) throws -> Duration {
            let text = source.string(flagValue, flag: flag, variable: variable, default: fallback)
            do {
                return try parseDuration(text.value, field: text.name)
            } catch {
                throw ValidationError(error.message)
            }
        }
        invitationTTL = try duration(o.invitationTTL, flag: "--invitation-ttl", variable: "MARKETPLACE_USERS_INVITATION_TTL", default: "7d")
        sessionLifetime = try duration(
            o.sessionLifetime, flag: "--session-lifetime", variable: "MARKETPLACE_USERS_SESSION_LIFETIME", default: "12h")
        sessionIdleTimeout = try duration(
            o.sessionIdleTimeout, flag: "--session-idle-timeout", variable: "MARKETPLACE_USERS_SESSION_IDLE_TIMEOUT",
            default: "30m")

        let baseURL = source.string(
            o.invitationBaseURL, flag: "--invitation-base-url", variable: "MARKETPLACE_USERS_INVITATION_BASE_URL",
            default: "https://marketplace.example/invitations/")
        guard baseURL.value.hasPrefix("https://") || baseURL.value.hasPrefix("http://") else {
            throw ValidationError("\(baseURL.name) must start with https:// or http://")
        }
        invitationBaseURL = baseURL.value

        operatorUIDs = try source.ids(o.operatorUIDs, flag: "--operator-uid", variable: "MARKETPLACE_USERS_OPERATOR_UIDS").value
        operatorGIDs = try source.ids(o.operatorGIDs, flag: "--operator-gid", variable: "MARKETPLACE_USERS_OPERATOR_GIDS").value
        serviceUIDs = try source.ids(o.serviceUIDs, flag: "--service-uid", variable: "MARKETPLACE_USERS_SERVICE_UIDS").value
        serviceGIDs = try source.ids(o.serviceGIDs, flag: "--service-gid", variable: "MARKETPLACE_USERS_SERVICE_GIDS").value

        let interactive = PasswordParameters.interactive, minimum = PasswordParameters.minimum
        let ops = try source.value(
            o.argon2Opslimit, flag: "--argon2-opslimit", variable: "MARKETPLACE_USERS_ARGON2_OPSLIMIT",
            default: interactive.opsLimit, expected: "a positive integer", parse: { UInt64($0) })
        let mem = try source.value(
            o.argon2MemlimitKib, flag: "--argon2-memlimit-kib", variable: "MARKETPLACE_USERS_ARGON2_MEMLIMIT_KIB",
            default: interactive.memLimit / 1024, expected: "a positive integer", parse: { Int($0) })
        guard ops.value >= minimum.opsLimit else { throw ValidationError("\(ops.name) must be at least \(minimum.opsLimit)") }
        guard mem.value >= 0, mem.value * 1024 >= minimum.memLimit else {
            throw ValidationError("\(mem.name) must be at least \(minimum.memLimit / 1024)")
        }
        passwordParameters = PasswordParameters(opsLimit: ops.value, memLimit: mem.value * 1024)

        let threads = try source.value(
            o.hashingThreads, flag: "--hashing-threads", variable: "MARKETPLACE_USERS_HASHING_THREADS", default: 2,
            expected: "an integer between 1 and 64", parse: { Int($0) })
        guard (1...64).contains(threads.value) else { throw ValidationError("\(threads.name) must be between 1 and 64") }
        hashingThreads = threads.value

        let level = source.string(o.logLevel, flag: "--log-level", variable: "MARKETPLACE_USERS_LOG_LEVEL", default: "info")
        guard let parsedLevel = Logger.Level(rawValue: level.value) else {
            throw ValidationError("\(level.name) must be one of trace, debug, info, notice, warning, error, critical, not '\(level.value)'")
        }
        logLevel = parsedLevel
        let format = source.string(o.logFormat, flag: "--log-format", variable: "MARKETPLACE_USERS_LOG_FORMAT", default: "text")
        guard let parsedFormat = LogFormat(rawValue: format.value) else {
            throw ValidationError("\(format.name) must be text or json, not '\(format.value)'")
        }
        logFormat = parsedFormat
        let levelFile = source.string(o.logLevelFile, flag: "--log-level-file", variable: "MARKETPLACE_USERS_LOG_LEVEL_FILE", default: "")
        logLevelFile = levelFile.value.isEmpty ? nil : levelFile.value

        let metrics = source.string(o.metricsListen, flag: "--metrics-listen", variable: "MARKETPLACE_USERS_METRICS_LISTEN", default: "")
        if !metrics.value.isEmpty {
            do {
                metricsListen = try MetricsEndpoint.Address(parsing: metrics.value, name: metrics.name)
            } catch {
                throw ValidationError(error.description)
            }
            metricsListenText = metrics.value
        }
    }
}
