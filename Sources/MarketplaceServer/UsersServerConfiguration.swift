/// Everything the users service needs to start, with defaults that work for a
/// non-root user in the current directory.
public struct UsersServerConfiguration: Sendable {
    /// Default socket path, relative to the working directory.
    public static let defaultSocketPath = "./marketplace-users.sock"
    /// Default data directory, relative to the working directory.
    public static let defaultDataDirectory = "./data"

    /// Socket, limits and timeouts of the RPC server.
    public var rpc: RPCServerConfiguration
    /// Where the SQLite database and the secrets key file live.
    public var dataDirectory: String

    public init(
        socketPath: String = Self.defaultSocketPath,
        dataDirectory: String = Self.defaultDataDirectory
    ) {
        self.rpc = RPCServerConfiguration(socketPath: socketPath)
        self.dataDirectory = dataDirectory
    }
}
