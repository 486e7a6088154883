import ArgumentParser

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Deliver emails, inspect pending and failed ones, acknowledge delivered ones.",
        discussion: """
            The service records each email in the same transaction as the change
            that caused it; the mail sender collects and acknowledges them.
            `outbox deliver` is the mail sender (docs/mail.md).
            Examples:
              marketplace-users outbox deliver --follow --from noreply@acme.example
              marketplace-users outbox list
              marketplace-users outbox ack MSG-1 MSG-2
            """,
        subcommands: [OutboxListCommand.self, OutboxAckCommand.self, OutboxDeliverCommand.self, OutboxTemplatesCommand.self])
}
