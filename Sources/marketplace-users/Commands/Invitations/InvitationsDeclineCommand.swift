import ArgumentParser
import MarketplaceClient

struct InvitationsDeclineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decline",
        abstract: "Decline a pending invitation, as the invitee.",
        discussion: """
            The link stops working; the person can be invited again. JSON: the
            InvitationView.
            Examples:
              marketplace-users invitations decline TOKEN
              marketplace-users invitations decline \\
                  https://marketplace.example/invitations/TOKEN --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var token: TokenArgument

    func run() async throws {
        try await connection.run(hint: TokenArgument.hint) { client in
            let view = try await client.invitations.declineInvitation(.init(token: token.token)).invitation ?? InvitationView()
            if connection.json { try Output.printJSON(view) } else { print("Invitation to \(view.accountName) declined.") }
        }
    }
}
