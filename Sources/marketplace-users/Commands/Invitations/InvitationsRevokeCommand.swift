import ArgumentParser
import MarketplaceClient

struct InvitationsRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Withdraw an unanswered invitation (the link stops working).",
        discussion: """
            The membership becomes Disabled; the person can be invited again. Asks
            for confirmation on a terminal; pass --yes in scripts. JSON: the AccountUser.
            Examples:
              marketplace-users invitations revoke AUSR-1234-5678-9012
              marketplace-users invitations revoke AUSR-1234-5678-9012 --yes
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var confirmation: ConfirmOptions
    @OptionGroup var target: AccountUserArgument

    func run() async throws {
        let id = target.accountUserID
        try await connection.run(hint: { error in
            error.code == .failedPrecondition
                ? "only an unanswered invitation can be revoked; to take away a member's access use `marketplace-users users remove \(id)`"
                : CLIErrors.accountUserHint(id)(error)
        }) { client in
            try await confirmation.confirm(action: "revoke the invitation of \(id)") {
                "Revoke the invitation of \(try await describeAccountUser(client, id).1)?"
            }
            let member = try await client.accountUsers.revokeInvitation(.init(accountUserId: id)).accountUser ?? AccountUser()
            if connection.json { try Output.printJSON(member) } else { Display.accountUser(member) }
        }
    }
}
