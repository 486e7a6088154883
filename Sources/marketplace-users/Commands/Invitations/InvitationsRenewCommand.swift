import ArgumentParser
import MarketplaceClient

struct InvitationsRenewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "renew",
        abstract: "Send a new invitation after the old one expired (a new link, valid 7 days).",
        discussion: """
            The old link stops working. Only for an expired invitation; a pending one
            is resent with `invitations resend`. JSON: {"accountUser", "invitationLink"}.
            Examples:
              marketplace-users invitations renew AUSR-1234-5678-9012
              marketplace-users invitations renew AUSR-1234-5678-9012 --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: AccountUserArgument

    func run() async throws {
        let id = target.accountUserID
        try await connection.run(hint: CLIErrors.accountUserHint(id)) { client in
            let response = try await client.accountUsers.renewInvitation(.init(accountUserId: id))
            if connection.json {
                try Output.printJSON(response)
            } else {
                Display.accountUser(response.accountUser ?? AccountUser(), link: response.invitationLink)
            }
        }
    }
}
