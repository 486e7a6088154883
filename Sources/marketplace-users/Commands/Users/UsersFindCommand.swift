import ArgumentParser
import MarketplaceClient

struct UsersFindCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find",
        abstract: "Find the user with an email address (case-insensitive).",
        discussion: """
            JSON: the User.
            Examples:
              marketplace-users users find ada@example.com
              marketplace-users users find ADA@example.com --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The email address.")
    var email: String

    func run() async throws {
        try await connection.run(hint: { $0.code == .notFound ? "nobody has this email; invite them with `marketplace-users users invite`" : nil }) { client in
            let user = try await client.users.findUserByEmail(.init(email: email)).user ?? User()
            if connection.json { try Output.printJSON(user) } else { Display.user(user) }
        }
    }
}
