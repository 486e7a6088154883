import ArgumentParser
import MarketplaceClient

struct AccountsRenameCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rename",
        abstract: "Rename an account (operators).",
        discussion: """
            Renaming to the current name changes nothing. JSON: the Account after the change.
            Examples:
              marketplace-users accounts rename ACC-1234-5678 "Acme Group Ltd"
              marketplace-users accounts rename ACC-1234-5678 "Acme Group Ltd" --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The account id, ACC-1234-5678.")
    var accountID: String

    @Argument(help: "The new name, 1 to 200 characters.")
    var name: String

    func validate() throws {
        try IDKind.account.check(accountID, "account id")
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("the account name must not be empty") }
    }

    func run() async throws {
        try await connection.run(hint: CLIErrors.accountHint) { client in
            let account = try await client.accounts.renameAccount(.init(accountId: accountID, name: name)).account ?? Account()
            if connection.json { try Output.printJSON(account) } else { Display.account(account) }
        }
    }
}
