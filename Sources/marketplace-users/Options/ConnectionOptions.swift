import ArgumentParser
import Foundation
import MarketplaceClient

/// Options every command shares: where the service is, how long to wait, and
/// whether to print JSON.
///
/// Operators are recognised by the server from their Unix uid, so operator
/// commands send no credentials. After `sign-in`, every command acts as that
/// person (the session file's token is sent), until `sign-out` or with
/// `--no-session`. So that an operator (root, or the socket's owner) never acts
/// as someone else without knowing, each such command says on stderr whose
/// identity it uses; `whoami` shows it too.
struct ConnectionOptions: ParsableArguments {
    /// The server's default socket, relative to the working directory.
    static let defaultSocket = "./marketplace-users.sock"

    @Option(name: .long, help: ArgumentHelp(
        "Unix socket of the service (or env MARKETPLACE_USERS_SOCKET).",
        valueName: "path"))
    var socket: String = ProcessInfo.processInfo.environment["MARKETPLACE_USERS_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        ?? Self.defaultSocket

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for each answer.", valueName: "seconds"))
    var timeout: Double = 30

    @Flag(name: .long, help: "Print JSON (stable field names, see docs/cli.md) instead of text.")
    var json = false

    @Flag(name: .long, help: "Ignore the saved sign-in session: act as yourself (an operator if your Unix user is one).")
    var noSession = false

    func validate() throws {
        guard timeout > 0, timeout <= 3_600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
        guard !socket.isEmpty else { throw ValidationError("--socket must not be empty") }
    }

    /// Options sent with every call: the timeout, and the saved session's token
    /// when there is one for this socket.
    func callOptions() throws(CLIFailure) -> CallOptions {
        let timeout = Duration.milliseconds(Int64(timeout * 1000))
        if !noSession, let session = try SessionFile.load(for: socket) {
            if Self.mayBeOperator(socket: socket) {
                Output.note("marketplace-users: acting as \(session.email) (saved sign-in); --no-session acts as your Unix user")
            }
            return .bearer(session.token, timeout: timeout)
        }
        return CallOptions(timeout: timeout)
    }

    /// Whether this Unix user is likely an operator of the server at `socket`:
    /// root, or the owner of the socket (the server's own user).
    static func mayBeOperator(socket: String) -> Bool {
        var st = stat()
        return getuid() == 0 || (stat(socket, &st) == 0 && st.st_uid == getuid())
    }

    @Flag(name: .long, help: "Show full values in tables instead of cutting them to the terminal's width.")
    var wide = false

    /// Runs `body` with a connected client, closing it afterwards.
    func withClient<T>(_ body: (MarketplaceClient) async throws -> T) async throws -> T {
        try await MarketplaceClient.withClient(socketPath: socket, defaultOptions: try callOptions(), body)
    }

    /// Runs `body` with a client; failures become one line on stderr and an exit code.
    func run(hint: CLIErrors.Hint? = nil, _ body: (MarketplaceClient) async throws -> Void) async throws {
        Output.setTableWidth(wide ? nil : Output.terminalColumns())
        try await CLIErrors.reporting(socket: socket, hint: hint) {
            try await withClient(body)
        }
    }
}
