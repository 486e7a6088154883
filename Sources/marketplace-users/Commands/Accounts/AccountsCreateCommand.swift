import ArgumentParser
import MarketplaceClient

struct AccountsCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an account.",
        discussion: """
            Prints the new account; its id (ACC-...) is what the other commands take.
            Examples:
              marketplace-users accounts create "Acme Ltd" --type client
              marketplace-users accounts create "Widgets Inc" --type vendor --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The account's name, 1 to 200 characters.")
    var name: String

    @Option(help: "client, vendor or operations.")
    var type: AccountType

    func validate() throws {
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("the account name must not be empty") }
    }

    func run() async throws {
        try await connection.run { client in
            let account = try await client.accounts.createAccount(.init(name: name, type: type)).account ?? Account()
            if connection.json { try Output.printJSON(account) } else { Display.account(account) }
        }
    }
}
