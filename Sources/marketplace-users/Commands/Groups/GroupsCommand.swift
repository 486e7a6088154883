import ArgumentParser

struct GroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "Create and read an account's groups.",
        discussion: """
            Examples:
              marketplace-users groups create --account ACC-1234-5678 Administrators \\
                  --administrators
              marketplace-users groups list --account ACC-1234-5678
              marketplace-users groups show UGR-1234-5678
            """,
        subcommands: [GroupsCreateCommand.self, GroupsListCommand.self, GroupsShowCommand.self])
}
