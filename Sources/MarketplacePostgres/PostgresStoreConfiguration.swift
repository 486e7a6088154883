import Foundation
import MarketplaceDomain

/// Where and how ``PostgresStore`` connects: a libpq-style URL and the size
/// of the connection pool.
///
/// Accepted URLs (`postgres://` or `postgresql://`):
/// - `postgres://user[:password]@host[:port]/database` over TCP (port 5432 by default);
/// - `postgres://user@/database?host=/run/postgresql` over the Unix socket
///   `/run/postgresql/.s.PGSQL.5432` (libpq's form: a `host` parameter that
///   starts with `/` is the socket's directory; `port=N` picks `.s.PGSQL.N`).
///
/// Query parameters: `host`, `port`, `connect_timeout=N` (libpq's: seconds one
/// connection attempt may take, 1-3600; default 5) and
/// `sslmode=disable|allow|prefer`. Any other is refused, so a setting the
/// operator wrote is never silently ignored.
/// TLS is not supported yet: reach the database over a Unix socket or a
/// private network.
public struct PostgresStoreConfiguration: Sendable {
    /// Connections of one store (one daemon) when not configured.
    public static let defaultPoolSize = 10
    /// The largest pool a store accepts.
    public static let maxPoolSize = 200

    enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)
    }

    let endpoint: Endpoint
    let username: String
    let password: String?
    let database: String

    /// Connections the store keeps open (1...``maxPoolSize``): at most this
    /// many transactions of this store run at once.
    public var poolSize: Int
    /// How long opening one connection may take before the attempt fails
    /// `unavailable`: the URL's `connect_timeout`, else ``defaultConnectTimeout``.
    public var connectTimeout: Duration = Self.defaultConnectTimeout
    /// ``connectTimeout`` when the URL has no `connect_timeout`.
    public static let defaultConnectTimeout: Duration = .seconds(5)
    /// How many times a write transaction is run before a serialization
    /// failure is reported as `unavailable` (busy; retry).
    public var maxWriteAttempts = 20
    /// Write transactions of this store that run at once (1...``poolSize``;
    /// more wait, in arrival order; reads are not limited): under
    /// serializable isolation every concurrent writer makes the others'
    /// serialization failures (and runs again) more likely. Default
    /// ``defaultWriteConcurrency``, at most ``poolSize``.
    public var writeConcurrency: Int {
        get { min(storedWriteConcurrency, poolSize) }
        set { storedWriteConcurrency = max(1, newValue) }
    }
    private var storedWriteConcurrency = Self.defaultWriteConcurrency
    /// ``writeConcurrency`` unless set.
    public static let defaultWriteConcurrency = 2
    /// How long a health probe waits for the database.
    public var healthTimeout: Duration = .seconds(2)

    /// The URL without its password, for logs and messages.
    public let displayURL: String

    /// Parses `url`.
    /// - Throws: ``DomainError/Kind/invalidArgument`` naming what is wrong with
    ///   the URL (never echoing its password), or with `poolSize`.
    public init(url: String, poolSize: Int = Self.defaultPoolSize) throws(DomainError) {
        func invalid(_ reason: String) -> DomainError {
            DomainError(.invalidArgument, "\(reason) (expected postgres://user[:password]@host[:port]/database or postgres://user@/database?host=/socket/dir)")
        }
        guard (1...Self.maxPoolSize).contains(poolSize) else {
            throw DomainError(.invalidArgument, "the pool size must be between 1 and \(Self.maxPoolSize), not \(poolSize)")
        }
        self.poolSize = poolSize
        guard let components = URLComponents(string: url) else { throw invalid("not a URL") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("the scheme must be postgres:// or postgresql://")
        }
        guard let user = components.user, !user.isEmpty else { throw invalid("the URL names no user") }
        username = user
        password = components.password
        let path = components.path
        let name = path.hasPrefix("/") ? String(path.dropFirst()) : path
        guard !name.isEmpty, !name.contains("/") else { throw invalid("the URL names no database (the path after the host)") }
        database = name

        var socketDirectory: String?
        var queryPort: Int?
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "host":
                guard value.hasPrefix("/") else { throw invalid("host= must be a socket directory starting with /, not '\(value)'") }
                socketDirectory = value
            case "port":
                guard let port = Int(value), (1...65535).contains(port) else { throw invalid("port= must be 1...65535, not '\(value)'") }
                queryPort = port
            case "connect_timeout":
                // libpq reads 1 as 2 and 0 as "wait for ever"; a daemon that
                // waits for ever on a dead host answers nothing, so 0 is refused.
                guard let seconds = Int(value), (1...3600).contains(seconds) else {
                    throw invalid("connect_timeout= must be 1...3600 seconds, not '\(value)'")
                }
                connectTimeout = .seconds(max(2, seconds))
            case "sslmode":
                guard ["disable", "allow", "prefer"].contains(value) else {
                    throw invalid("sslmode=\(value) is not supported (TLS is not implemented: use a Unix socket or a private network)")
                }
            default:
                throw invalid("unknown URL parameter '\(item.name)'")
            }
        }
        let host = components.host ?? ""
        let port = queryPort ?? components.port ?? 5432
        if let socketDirectory {
            guard host.isEmpty else { throw invalid("give either a host or host=/socket/dir, not both") }
            endpoint = .unixSocket(path: (socketDirectory as NSString).appendingPathComponent(".s.PGSQL.\(port)"))
        } else {
            guard !host.isEmpty else { throw invalid("the URL names no host (for a Unix socket add ?host=/socket/dir)") }
            guard (1...65535).contains(port) else { throw invalid("the port must be 1...65535") }
            endpoint = .tcp(host: host, port: port)
        }

        var shown = components
        if shown.password != nil { shown.password = "***" }
        displayURL = shown.string ?? "postgres://\(user)@.../\(name)"
    }
}
