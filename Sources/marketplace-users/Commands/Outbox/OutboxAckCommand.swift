import ArgumentParser
import MarketplaceClient

struct OutboxAckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack",
        abstract: "Mark emails as sent.",
        discussion: """
            Ids already marked are ignored; an unknown id marks nothing (exit 3).
            JSON: {"marked": N}.
            Examples:
              marketplace-users outbox ack 0f3c... 9a1b...
              marketplace-users outbox list --json | jq -r '.messages[].id' \\
                  | xargs marketplace-users outbox ack
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Message ids, 1 to 500.")
    var messageIDs: [String]

    func validate() throws {
        guard (1...500).contains(messageIDs.count) else { throw ValidationError("give 1 to 500 message ids") }
    }

    func run() async throws {
        try await connection.run(hint: { $0.code == .notFound ? "nothing was marked; check the ids with `marketplace-users outbox list`" : nil }) { client in
            let response = try await client.outbox.markMessagesSent(.init(messageIds: messageIDs))
            if connection.json { try Output.printJSON(response) } else { print("Marked \(response.marked) of \(messageIDs.count) as sent.") }
        }
    }
}
