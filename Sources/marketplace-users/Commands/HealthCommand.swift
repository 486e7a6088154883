import ArgumentParser
import MarketplaceClient

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Show whether the service is serving, and its version.",
        discussion: """
            Exits 0 when the service answers SERVING.
            Examples:
              marketplace-users health
              marketplace-users health --json
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.run { client in
            let response = try await client.health.check()
            if connection.json {
                try Output.printJSON(response)
            } else {
                print("\(response.status.protoName)  version \(response.version)")
            }
            if response.status != .serving { throw ExitCode(CLIErrors.ExitStatus.unavailable) }
        }
    }
}
