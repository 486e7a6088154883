import ArgumentParser
import MarketplaceClient

struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Create, read, rename, disable and enable accounts (companies and organisations).",
        discussion: """
            Examples:
              marketplace-users accounts create "Acme Ltd" --type client
              marketplace-users accounts list --all
              marketplace-users accounts show ACC-1234-5678
              marketplace-users accounts rename ACC-1234-5678 "Acme Group Ltd"
              marketplace-users accounts disable ACC-1234-5678 --yes
            """,
        subcommands: [
            AccountsCreateCommand.self, AccountsListCommand.self, AccountsShowCommand.self, AccountsRenameCommand.self,
            AccountsDisableCommand.self, AccountsEnableCommand.self,
        ])
}

extension AccountType: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "client": self = .client
        case "vendor": self = .vendor
        case "operations": self = .operations
        default: return nil
        }
    }

    public static var allValueStrings: [String] { ["client", "vendor", "operations"] }
}
