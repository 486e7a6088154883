import ArgumentParser
import MarketplaceClient

struct GroupsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List an account's groups by name.",
        discussion: """
            JSON: {"groups": [Group...], "nextPageToken": "..."}.
            Examples:
              marketplace-users groups list --account ACC-1234-5678
              marketplace-users groups list --account ACC-1234-5678 --all --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: PageOptions

    @Option(help: ArgumentHelp("The account, ACC-1234-5678.", valueName: "account-id"))
    var account: String

    func validate() throws { try IDKind.account.check(account, "--account") }

    func run() async throws {
        try await connection.run(hint: CLIErrors.accountHint) { client in
            let (groups, next) = try await page.collect { token in
                let response = try await client.groups.listGroups(
                    .init(accountId: account, pageSize: page.size, pageToken: token))
                return (response.groups, response.nextPageToken)
            }
            if connection.json {
                try Output.printJSON(PageJSON(key: "groups", items: groups, nextPageToken: next))
            } else {
                Display.groups(groups)
                page.printNextPageHint(next)
            }
        }
    }
}
