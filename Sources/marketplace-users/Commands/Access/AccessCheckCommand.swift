import ArgumentParser
import Foundation
import MarketplaceClient

struct AccessCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check whether a session may act in an account with some permissions.",
        discussion: """
            Calls Access/CheckAccess (operators and internal services only; the
            saved sign-in session is never sent). A refusal is printed with its
            reason and exits 0; only a failed call exits non-zero. The check does
            not extend the session's idle timer unless --touch is given.

            Examples:
              marketplace-users access check --token "$TOKEN" --permission orders.read
              marketplace-users access check --token "$TOKEN" --account ACC-1234-5678 --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The person's session token.")
    var token: String

    @Option(help: "The account to check, ACC-1234-5678 (default: the session's current account).")
    var account: String?

    @Option(name: .customLong("permission"), help: "A permission that must be held; repeatable.")
    var permissions: [String] = []

    @Flag(help: "Also extend the session's idle timer, as a call of the person would.")
    var touch = false

    func validate() throws {
        if let account { try IDKind.account.check(account, "--account") }
    }

    func run() async throws {
        var connection = connection
        connection.noSession = true
        try await connection.run { client in
            let answer = try await client.access.checkAccess(
                .init(token: token, accountId: account ?? "", permissions: permissions, touch: touch))
            if connection.json { try Output.printJSON(answer) } else { Self.display(answer) }
        }
    }

    static func display(_ answer: CheckAccessResponse) {
        Output.printDetails([
            ("Allowed", answer.allowed ? "yes" : "no"),
            ("Reason", answer.allowed ? nil : reason(answer.reason)),
            ("User", answer.userId.isEmpty ? nil : answer.userId),
            ("Account", answer.accountId.isEmpty ? nil : answer.accountId),
            ("Account user", answer.accountUserId.isEmpty ? nil : answer.accountUserId),
            ("Status", answer.accountUserId.isEmpty ? nil : status(answer.membershipStatus)),
            ("Groups", answer.accountUserId.isEmpty ? nil : answer.groups.isEmpty ? "none" : answer.groups.map(\.name).joined(separator: ", ")),
            ("Permissions", answer.accountUserId.isEmpty ? nil : answer.permissions.isEmpty ? "none" : answer.permissions.joined(separator: ", ")),
            ("Missing", answer.missingPermissions.isEmpty ? nil : answer.missingPermissions.joined(separator: ", ")),
            ("Administrator", answer.accountUserId.isEmpty ? nil : answer.isAdministrator ? "yes" : "no"),
            ("Session ends", answer.sessionExpiresAt.map { TimeFormatting.absolute($0) }),
        ])
    }

    static func reason(_ reason: AccessDenialReason) -> String {
        switch reason {
        case .noSession: "no session (unknown token, or signed out)"
        case .sessionEnded: "session ended"
        case .notAMember: "not a member of the account"
        case .membershipBlocked: "membership blocked"
        case .membershipDisabled: "membership disabled (removed)"
        case .membershipInvited: "membership invited, not accepted"
        case .accountDisabled: "account disabled"
        case .permissionMissing: "permission missing"
        default: "unknown"
        }
    }

    static func status(_ status: MembershipStatus) -> String {
        switch status {
        case .invited: "invited"
        case .active: "active"
        case .disabled: "disabled"
        case .invitationExpired: "invitation_expired"
        case .blocked: "blocked"
        case .deleted: "deleted"
        default: "unknown"
        }
    }
}
