import MarketplaceDomain

/// Everything the users service needs to start, with defaults that work for a
/// non-root user in the current directory.
public struct UsersServerConfiguration: Sendable {
    /// Default socket path, relative to the working directory.
    public static let defaultSocketPath = "./marketplace-users.sock"
    /// Default data directory, relative to the working directory.
    public static let defaultDataDirectory = "./data"

    /// Socket, limits and timeouts of the RPC server.
    public var rpc: RPCServerConfiguration
    /// Where the key file (`secrets.key`, mode 0600) lives, and the SQLite
    /// database (`users.sqlite`) when the server runs on SQLite.
    public var dataDirectory: String
    /// The key file that seals invitation links (`--key-file`): `nil` means
    /// `<dataDirectory>/secrets.key`, created at first start; a path given
    /// here must exist (`marketplace-usersd keygen`), so that every daemon of
    /// a fleet uses the same keys and none silently makes its own.
    public var keyFilePath: String?
    /// How long an invitation link works (default 7 days).
    public var invitationTTL: Duration = .seconds(7 * 86_400)
    /// Invitation links are this URL followed by the token.
    public var invitationBaseURL = "https://marketplace.example/invitations/"
    /// Argon2id cost (default: libsodium's interactive limits).
    public var passwordParameters: PasswordParameters = .interactive
    /// Threads that hash passwords; at most this many hashes run at once.
    public var hashingThreads = 2
    /// Which socket peers act as platform operators.
    public var operators = OperatorPolicy()
    /// Which socket peers act as internal services (read-only lookups,
    /// CheckAccess and ListChanges).
    public var services = ServicePolicy()
    /// A session ends this long after sign-in, whatever happens (default 12 h).
    public var sessionLifetime: Duration = .seconds(12 * 3600)
    /// A session ends after this long without a call (default 30 min).
    public var sessionIdleTimeout: Duration = .seconds(30 * 60)
    /// The time source; tests pass a `ManualWallClock` to move time.
    public var clock: any WallClock = SystemWallClock()
    /// Opens the storage the server runs on. The executable (or the tests'
    /// support) chooses the backend: libraries never pick one. Called once by
    /// `UsersServer.start` after the socket path is checked and the data
    /// directory exists; a store that is a `ClosableStore` is closed when the
    /// server shuts down (or its start fails later). `nil`: the start fails.
    public var openStore: (@Sendable (UsersServerConfiguration) async throws -> any Store)?

    public init(
        socketPath: String = Self.defaultSocketPath,
        dataDirectory: String = Self.defaultDataDirectory
    ) {
        self.rpc = RPCServerConfiguration(socketPath: socketPath)
        self.dataDirectory = dataDirectory
    }
}
