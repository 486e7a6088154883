import ArgumentParser
import MarketplaceClient

struct UsersUnblockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unblock",
        abstract: "Restore a blocked member's access.",
        discussion: """
            JSON: the AccountUser after the change.
            Examples:
              marketplace-users users unblock AUSR-1234-5678-9012
              marketplace-users users unblock AUSR-1234-5678-9012 --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The account user, AUSR-1234-5678-9012.")
    var accountUserID: String

    func validate() throws { try IDKind.accountUser.check(accountUserID, "account user id") }

    func run() async throws {
        try await connection.run(hint: { error in
            error.code == .failedPrecondition ? "only a Blocked member can be unblocked; see `marketplace-users users show \(accountUserID)`" : CLIErrors.accountUserHint(accountUserID)(error)
        }) { client in
            let member = try await client.accountUsers.unblockAccountUser(.init(accountUserId: accountUserID)).accountUser ?? AccountUser()
            if connection.json { try Output.printJSON(member) } else { Display.accountUser(member) }
        }
    }
}
