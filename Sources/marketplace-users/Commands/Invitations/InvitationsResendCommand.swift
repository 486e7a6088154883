import ArgumentParser
import MarketplaceClient

struct InvitationsResendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resend",
        abstract: "Email the same, still valid, invitation link again.",
        discussion: """
            Only for a pending invitation; an expired one needs `invitations renew`.
            JSON: the AccountUser.
            Examples:
              marketplace-users invitations resend AUSR-1234-5678-9012
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: AccountUserArgument

    func run() async throws {
        let id = target.accountUserID
        try await connection.run(hint: CLIErrors.accountUserHint(id)) { client in
            let member = try await client.accountUsers.resendInvitation(.init(accountUserId: id)).accountUser ?? AccountUser()
            if connection.json {
                try Output.printJSON(member)
            } else {
                print("Invitation resent to \(member.user?.email ?? id). \(member.statusPhrase()).")
            }
        }
    }
}
