import ArgumentParser
import MarketplaceClient

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Invite, list, edit, remove and block users (account users and platform users).",
        discussion: """
            An account user (AUSR-...) is one person's membership in one account;
            a user (USR-...) is the person, across every account.
            Examples:
              marketplace-users users invite --account ACC-1234-5678 \\
                  --email ada@example.com \\
                  --first-name Ada --last-name Lovelace --group UGR-1234-5678
              marketplace-users users invite --account ACC-1234-5678 --csv people.csv
              marketplace-users users list --account ACC-1234-5678 --status invited
              marketplace-users users groups AUSR-1234-5678-9012 --add UGR-2222-3333
              marketplace-users users remove AUSR-1234-5678-9012 --yes
            """,
        subcommands: [
            UsersInviteCommand.self, UsersListCommand.self, UsersShowCommand.self, UsersGroupsCommand.self,
            UsersRemoveCommand.self, UsersBlockCommand.self, UsersUnblockCommand.self, UsersDeleteCommand.self,
            UsersFindCommand.self,
        ])
}

extension MembershipStatus: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "invited": self = .invited
        case "active": self = .active
        case "disabled", "removed": self = .disabled
        case "invitation-expired", "expired": self = .invitationExpired
        case "blocked": self = .blocked
        case "deleted": self = .deleted
        default: return nil
        }
    }

    public static var allValueStrings: [String] { ["invited", "active", "disabled", "invitation-expired", "blocked", "deleted"] }
}

extension AccountUserSort: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "name": self = .name
        case "email": self = .email
        case "joined": self = .joined
        case "last-sign-in": self = .lastSignIn
        default: return nil
        }
    }

    public static var allValueStrings: [String] { ["name", "email", "joined", "last-sign-in"] }

    public var defaultValueDescription: String {
        switch self {
        case .email: "email"
        case .joined: "joined"
        case .lastSignIn: "last-sign-in"
        default: "name"
        }
    }
}

/// Fetches an account user to name them in a confirmation prompt.
func describeAccountUser(_ client: MarketplaceClient, _ id: String) async throws -> (AccountUser, String) {
    let member = try await client.accountUsers.getAccountUser(.init(accountUserId: id)).accountUser ?? AccountUser()
    let user = member.user ?? User()
    return (member, "\(user.fullName) <\(user.email)> (\(id), account \(member.accountId), \(member.status.displayName))")
}
