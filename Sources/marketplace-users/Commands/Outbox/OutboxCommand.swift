import ArgumentParser

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Inspect pending emails and acknowledge delivered ones.",
        discussion: """
            The service records each email in the same transaction as the change
            that caused it; the mail sender collects and acknowledges them.
            Examples:
              marketplace-users outbox list
              marketplace-users outbox ack MSG-1 MSG-2
            """,
        subcommands: [OutboxListCommand.self, OutboxAckCommand.self])
}
