import ArgumentParser

struct ChangesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "changes",
        abstract: "Follow the change feed (what may change an access check's answer).",
        discussion: """
            Examples:
              marketplace-users changes follow
              marketplace-users changes follow --after 1234 --json
            """,
        subcommands: [ChangesFollowCommand.self])
}
