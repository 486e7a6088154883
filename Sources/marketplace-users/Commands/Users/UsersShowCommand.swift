import ArgumentParser
import MarketplaceClient

struct UsersShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show an account user (AUSR-...) or a platform user (USR-...).",
        discussion: """
            An account user shows the profile, status (with the invitation spelled
            out, e.g. "Invitation expires in 6 days"), groups and audit times.
            JSON: the AccountUser, or the User.
            Examples:
              marketplace-users users show AUSR-1234-5678-9012
              marketplace-users users show USR-1234-5678 --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "AUSR-1234-5678-9012 or USR-1234-5678.")
    var id: String

    func validate() throws {
        guard IDKind.accountUser.isValid(id) || IDKind.user.isValid(id) else {
            throw ValidationError("\"\(id)\" is not a valid id; expected AUSR-1234-5678-9012 or USR-1234-5678")
        }
    }

    func run() async throws {
        if IDKind.user.isValid(id) {
            try await connection.run(hint: { $0.code == .notFound ? "find a user by email with `marketplace-users users find EMAIL`" : nil }) { client in
                let user = try await client.users.getUser(.init(userId: id)).user ?? User()
                if connection.json { try Output.printJSON(user) } else { Display.user(user) }
            }
            return
        }
        try await connection.run(hint: CLIErrors.accountUserHint(id)) { client in
            let member = try await client.accountUsers.getAccountUser(.init(accountUserId: id)).accountUser ?? AccountUser()
            if connection.json { try Output.printJSON(member) } else { Display.accountUser(member) }
        }
    }
}
