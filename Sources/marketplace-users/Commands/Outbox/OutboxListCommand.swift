import ArgumentParser
import MarketplaceClient

struct OutboxListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List pending emails, oldest first.",
        discussion: """
            JSON: {"messages": [OutboxMessage...]} (with subject and body).
            Examples:
              marketplace-users outbox list
              marketplace-users outbox list --limit 500 --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: ArgumentHelp("At most this many, 1 to 500 (default 50).", valueName: "n"))
    var limit: Int?

    func validate() throws {
        guard (1...500).contains(limit ?? 50) else { throw ValidationError("--limit must be between 1 and 500") }
    }

    func run() async throws {
        try await connection.run { client in
            let response = try await client.outbox.listPendingMessages(.init(limit: Int32(limit ?? 0)))
            if connection.json { try Output.printJSON(response) } else { Display.outboxMessages(response.messages) }
        }
    }
}
