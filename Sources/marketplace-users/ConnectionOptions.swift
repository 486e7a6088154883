import ArgumentParser
import Foundation
import MarketplaceClient

/// Options every command shares: where the service is and how long to wait.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "Unix socket of the service (env MARKETPLACE_USERS_SOCKET; default ./marketplace-users.sock).")
    var socket: String = ProcessInfo.processInfo.environment["MARKETPLACE_USERS_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        ?? "./marketplace-users.sock"

    @Option(name: .long, help: "Seconds to wait for an answer.")
    var timeout: Double = 30

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be more than 0 seconds") }
    }

    /// Runs `body` with a connected client, closing it afterwards.
    func withClient<T>(_ body: (MarketplaceClient) async throws -> T) async throws -> T {
        try await MarketplaceClient.withClient(
            socketPath: socket, defaultOptions: CallOptions(timeout: .milliseconds(Int64(timeout * 1000))), body)
    }
}
