import ArgumentParser
import MarketplaceClient

struct UsersRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a user from an account (the membership becomes Disabled).",
        discussion: """
            The user is told by email, keeps every other account, and can be invited
            again. Asks for confirmation on a terminal; pass --yes in scripts.
            JSON: the AccountUser after the change.
            Examples:
              marketplace-users users remove AUSR-1234-5678-9012
              marketplace-users users remove AUSR-1234-5678-9012 --yes --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var confirmation: ConfirmOptions

    @Argument(help: "The account user, AUSR-1234-5678-9012.")
    var accountUserID: String

    func validate() throws { try IDKind.accountUser.check(accountUserID, "account user id") }

    func run() async throws {
        try await connection.run(hint: CLIErrors.accountUserHint(accountUserID)) { client in
            try await confirmation.confirm(action: "remove \(accountUserID)") {
                "Remove \(try await describeAccountUser(client, accountUserID).1) from the account?"
            }
            let member = try await client.accountUsers.removeAccountUser(.init(accountUserId: accountUserID)).accountUser ?? AccountUser()
            if connection.json { try Output.printJSON(member) } else { Display.accountUser(member) }
        }
    }
}
