import ArgumentParser
import MarketplaceClient

struct UsersShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show an account user (AUSR-...) or a platform user (USR-...).",
        discussion: """
            An account user shows the profile, status (with the invitation spelled
            out, e.g. "Invitation expires in 6 days"), groups and audit times. A
            platform user shows the profile and, below it, the user's memberships
            in every account (operators).
            JSON: the AccountUser, or the User; with --memberships and a USR id,
            {"user": User, "accountUsers": [AccountUser...]}.
            Examples:
              marketplace-users users show AUSR-1234-5678-9012
              marketplace-users users show USR-1234-5678 --json
              marketplace-users users show USR-1234-5678 --memberships --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "AUSR-1234-5678-9012 or USR-1234-5678.")
    var id: String

    @Flag(help: "With a USR id and --json: also the user's memberships in every account.")
    var memberships = false

    private struct UserWithMemberships: Encodable {
        var user: User
        var accountUsers: [AccountUser]
    }

    func validate() throws {
        guard IDKind.accountUser.isValid(id) || IDKind.user.isValid(id) else {
            throw ValidationError("\"\(id)\" is not a valid id; expected AUSR-1234-5678-9012 or USR-1234-5678")
        }
    }

    func run() async throws {
        if IDKind.user.isValid(id) {
            try await connection.run(hint: { $0.code == .notFound ? "find a user by email with `marketplace-users users find EMAIL`" : nil }) { client in
                let user = try await client.users.getUser(.init(userId: id)).user ?? User()
                if connection.json && !memberships {
                    try Output.printJSON(user)
                    return
                }
                let members = try await client.users.listUserAccountUsers(.init(userId: id)).accountUsers
                if connection.json {
                    try Output.printJSON(UserWithMemberships(user: user, accountUsers: members))
                } else {
                    Display.user(user)
                    print("")
                    print("Memberships:")
                    Display.accountUsers(members)
                }
            }
            return
        }
        try await connection.run(hint: CLIErrors.accountUserHint(id)) { client in
            let member = try await client.accountUsers.getAccountUser(.init(accountUserId: id)).accountUser ?? AccountUser()
            if connection.json { try Output.printJSON(member) } else { Display.accountUser(member) }
        }
    }
}
