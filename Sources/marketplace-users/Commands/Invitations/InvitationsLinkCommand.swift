import ArgumentParser
import MarketplaceClient

struct InvitationsLinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "Print the current link of a pending invitation (to copy).",
        discussion: """
            Prints only the link on stdout, so `$(marketplace-users invitations link ...)`
            works; the expiry goes to stderr. JSON: {"accountUserId", "invitationLink",
            "expiresAt"}.
            An expired invitation cannot be copied: send a new one with `invitations
            renew`.
            Examples:
              marketplace-users invitations link AUSR-1234-5678-9012
              marketplace-users invitations link AUSR-1234-5678-9012 --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: AccountUserArgument

    func run() async throws {
        let id = target.accountUserID
        try await connection.run(hint: CLIErrors.accountUserHint(id)) { client in
            let response = try await client.accountUsers.getInvitationLink(.init(accountUserId: id))
            if connection.json {
                try Output.printJSON(InvitationLinkJSON(accountUserId: id, invitationLink: response.invitationLink, expiresAt: response.expiresAt))
            } else {
                print(response.invitationLink)
                if let expires = response.expiresAt {
                    Output.note("Invitation expires \(TimeFormatting.relative(expires)) (\(TimeFormatting.absolute(expires))).")
                }
            }
        }
    }
}
