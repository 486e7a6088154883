import ArgumentParser
import MarketplaceClient

struct OutboxListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List pending emails and failed ones, oldest first.",
        discussion: """
            STATE is pending (with the attempts and last temporary failure, if
            any) or failed with the reason (the agent rejected the address, or the
            sender gave up): a failed message is never retried. --pending-only
            leaves failed ones out.
            JSON: {"messages": [OutboxMessage...]} (with subject, body, state, failure_reason).
            Examples:
              marketplace-users outbox list
              marketplace-users outbox list --limit 500 --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: ArgumentHelp("At most this many, 1 to 500 (default 50).", valueName: "n"))
    var limit: Int?

    @Flag(name: .customLong("pending-only"), help: "Leave out messages whose delivery failed permanently.")
    var pendingOnly = false

    func validate() throws {
        guard (1...500).contains(limit ?? 50) else { throw ValidationError("--limit must be between 1 and 500") }
    }

    func run() async throws {
        try await connection.run { client in
            let response = try await client.outbox.listPendingMessages(.init(limit: Int32(limit ?? 0), includeFailed: !pendingOnly))
            if connection.json { try Output.printJSON(response) } else { Display.outboxMessages(response.messages) }
        }
    }
}
