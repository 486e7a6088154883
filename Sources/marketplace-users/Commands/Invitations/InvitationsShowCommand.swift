import ArgumentParser
import MarketplaceClient

struct InvitationsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show what an invitation link is: account, inviter, email, validity, state.",
        discussion: """
            What the invitee sees when opening the link. JSON: the InvitationView.
            Examples:
              marketplace-users invitations show \\
                  https://marketplace.example/invitations/TOKEN
              marketplace-users invitations show TOKEN --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var token: TokenArgument

    func run() async throws {
        try await connection.run(hint: TokenArgument.hint) { client in
            let view = try await client.invitations.showInvitation(.init(token: token.token)).invitation ?? InvitationView()
            if connection.json { try Output.printJSON(view) } else { Display.invitation(view) }
        }
    }
}
