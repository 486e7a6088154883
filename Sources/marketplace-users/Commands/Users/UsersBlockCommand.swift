import ArgumentParser
import MarketplaceClient

struct UsersBlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "block",
        abstract: "Restrict an active member's access to the account.",
        discussion: """
            The reason is recorded in the audit trail. Asks for confirmation on a
            terminal; pass --yes in scripts. Undo with `users unblock`. Blocking a
            member who is already blocked changes nothing and succeeds (exit 0).
            JSON: the AccountUser after the change.
            Examples:
              marketplace-users users block AUSR-1234-5678-9012 --reason "terms violation"
              marketplace-users users block AUSR-1234-5678-9012 \\
                  --reason "security review" --yes
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var confirmation: ConfirmOptions

    @Argument(help: "The account user, AUSR-1234-5678-9012.")
    var accountUserID: String

    @Option(help: "Why, for the audit trail.")
    var reason: String = ""

    func validate() throws { try IDKind.accountUser.check(accountUserID, "account user id") }

    func run() async throws {
        try await connection.run(hint: { error in
            error.code == .failedPrecondition ? "only an Active member can be blocked; see `marketplace-users users show \(accountUserID)`" : CLIErrors.accountUserHint(accountUserID)(error)
        }) { client in
            try await confirmation.confirm(action: "block \(accountUserID)") {
                "Block \(try await describeAccountUser(client, accountUserID).1)?"
            }
            let member = try await client.accountUsers.blockAccountUser(.init(accountUserId: accountUserID, reason: reason)).accountUser ?? AccountUser()
            if connection.json { try Output.printJSON(member) } else { Display.accountUser(member) }
        }
    }
}
