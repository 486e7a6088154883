import ArgumentParser
import Foundation
import MarketplaceClient

/// Options every command shares: where the service is, how long to wait, and
/// whether to print JSON.
///
/// Operators are recognised by the server from their Unix uid, so operator
/// commands send no credentials. Credentials for signed-in users (a session
/// token) belong in ``callOptions``' metadata when sign-in exists.
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

    func validate() throws {
        guard timeout > 0, timeout <= 3_600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
        guard !socket.isEmpty else { throw ValidationError("--socket must not be empty") }
    }

    /// Options sent with every call: the timeout, and (later) credentials.
    var callOptions: CallOptions {
        CallOptions(timeout: .milliseconds(Int64(timeout * 1000)), metadata: [:])
    }

    /// Runs `body` with a connected client, closing it afterwards.
    func withClient<T>(_ body: (MarketplaceClient) async throws -> T) async throws -> T {
        try await MarketplaceClient.withClient(socketPath: socket, defaultOptions: callOptions, body)
    }

    /// Runs `body` with a client; failures become one line on stderr and an exit code.
    func run(hint: CLIErrors.Hint? = nil, _ body: (MarketplaceClient) async throws -> Void) async throws {
        try await CLIErrors.reporting(socket: socket, hint: hint) {
            try await withClient(body)
        }
    }
}
