import ArgumentParser

struct GroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "Create, read, change and delete an account's groups.",
        discussion: """
            Examples:
              marketplace-users groups create --account ACC-1234-5678 Administrators \\
                  --administrators
              marketplace-users groups list --account ACC-1234-5678
              marketplace-users groups show UGR-1234-5678
              marketplace-users groups update UGR-1234-5678 --name "Buyers EU"
              marketplace-users groups delete UGR-1234-5678 --yes
            """,
        subcommands: [
            GroupsCreateCommand.self, GroupsListCommand.self, GroupsShowCommand.self, GroupsUpdateCommand.self,
            GroupsDeleteCommand.self,
        ])
}
