import ArgumentParser
import MarketplaceClient

struct AccountsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one account.",
        discussion: """
            Examples:
              marketplace-users accounts show ACC-1234-5678
              marketplace-users accounts show ACC-1234-5678 --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The account id, ACC-1234-5678.")
    var accountID: String

    func validate() throws { try IDKind.account.check(accountID, "account id") }

    func run() async throws {
        try await connection.run(hint: CLIErrors.accountHint) { client in
            let account = try await client.accounts.getAccount(.init(accountId: accountID)).account ?? Account()
            if connection.json { try Output.printJSON(account) } else { Display.account(account) }
        }
    }
}
