import ArgumentParser
import MarketplaceClient

struct AccountsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List accounts by id, a page at a time.",
        discussion: """
            JSON: {"accounts": [Account...], "nextPageToken": "..."}.
            Examples:
              marketplace-users accounts list
              marketplace-users accounts list --page-size 100 --page-token TOKEN
              marketplace-users accounts list --all --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: PageOptions

    func run() async throws {
        try await connection.run { client in
            let (accounts, next) = try await page.collect { token in
                let response = try await client.accounts.listAccounts(.init(pageSize: page.size, pageToken: token))
                return (response.accounts, response.nextPageToken)
            }
            if connection.json {
                try Output.printJSON(PageJSON(key: "accounts", items: accounts, nextPageToken: next))
            } else {
                Display.accounts(accounts)
                page.printNextPageHint(next)
            }
        }
    }
}
