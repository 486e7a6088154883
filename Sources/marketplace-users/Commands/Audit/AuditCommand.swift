import ArgumentParser

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read an account's audit trail.",
        discussion: """
            Examples:
              marketplace-users audit list --account ACC-1234-5678
            """,
        subcommands: [AuditListCommand.self])
}
