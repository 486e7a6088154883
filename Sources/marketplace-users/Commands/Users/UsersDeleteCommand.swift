import ArgumentParser
import MarketplaceClient

struct UsersDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a user from the platform (terminal: personal data erased).",
        discussion: """
            Every membership becomes Deleted and the email is free to be invited
            again. This cannot be undone. Asks for confirmation on a terminal; pass
            --yes in scripts. JSON: the User after the change.
            Examples:
              marketplace-users users delete USR-1234-5678
              marketplace-users users delete USR-1234-5678 --yes --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var confirmation: ConfirmOptions

    @Argument(help: "The user, USR-1234-5678 (find it with `users find EMAIL`).")
    var userID: String

    func validate() throws { try IDKind.user.check(userID, "user id") }

    func run() async throws {
        try await connection.run(hint: { $0.code == .notFound ? "find a user by email with `marketplace-users users find EMAIL`" : nil }) { client in
            try await confirmation.confirm(action: "delete \(userID)") {
                let user = try await client.users.getUser(.init(userId: userID)).user ?? User()
                return "Delete \(user.fullName) <\(user.email)> (\(userID)) and every membership, for good?"
            }
            let user = try await client.users.deleteUser(.init(userId: userID)).user ?? User()
            if connection.json { try Output.printJSON(user) } else { Display.user(user) }
        }
    }
}
