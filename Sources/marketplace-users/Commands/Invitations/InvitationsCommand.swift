import ArgumentParser

struct InvitationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invitations",
        abstract: "Manage invitations (by account user) and answer them (by link token).",
        discussion: """
            link, resend, renew and revoke take the account user (AUSR-...); show,
            accept and decline take the token, or the whole invitation link.
            Examples:
              marketplace-users invitations link AUSR-1234-5678-9012
              marketplace-users invitations renew AUSR-1234-5678-9012
              marketplace-users invitations show \\
                  https://marketplace.example/invitations/TOKEN
              marketplace-users invitations accept TOKEN --first-name Ada \\
                  --last-name Lovelace --accept-terms
            """,
        subcommands: [
            InvitationsLinkCommand.self, InvitationsResendCommand.self, InvitationsRenewCommand.self,
            InvitationsRevokeCommand.self, InvitationsShowCommand.self, InvitationsAcceptCommand.self,
            InvitationsDeclineCommand.self,
        ])
}

/// The argument of link/resend/renew/revoke.
struct AccountUserArgument: ParsableArguments {
    @Argument(help: "The invited account user, AUSR-1234-5678-9012.")
    var accountUserID: String

    func validate() throws { try IDKind.accountUser.check(accountUserID, "account user id") }
}

/// The argument of show/accept/decline.
struct TokenArgument: ParsableArguments {
    @Argument(help: "The invitation token, or the whole link.")
    var tokenOrLink: String

    var token: String { InvitationToken.from(tokenOrLink) }

    func validate() throws {
        guard !token.isEmpty else { throw ValidationError("the invitation token must not be empty") }
    }

    static let hint: CLIErrors.Hint = { error in
        switch error.code {
        case .notFound: "check the link; the token is its last part"
        case .failedPrecondition where error.message.contains("expired"):
            "ask the account administrator for a new invitation (operators: `marketplace-users invitations renew AUSR-...`)"
        default: nil
        }
    }
}

/// A link and when it stops working, as `invitations link` and `renew` print it.
struct InvitationLinkJSON: Encodable {
    let accountUserId: String
    let invitationLink: String
    let expiresAt: Date?
}

import Foundation
