import ArgumentParser
import MarketplaceClient

struct WhoAmICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show who the server takes you for: operator, signed-in user, or anonymous.",
        discussion: """
            Asks the server (Sessions/WhoAmI) with the same credentials the other
            commands send: the saved sign-in for this socket, if any, else your Unix
            user. A user is shown with the session's current account.
            JSON: the WhoAmIResponse.
            Examples:
              marketplace-users whoami
              marketplace-users whoami --no-session --json
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.run { client in
            let me = try await client.sessions.whoAmI()
            if connection.json {
                try Output.printJSON(me)
                return
            }
            switch me.kind {
            case .operator:
                print("Operator (Unix uid \(me.peerUid)): every method, every account.")
            case .service:
                print("Internal service (Unix uid \(me.peerUid)): access checks, the change feed and read-only lookups.")
            case .user:
                let user = me.user ?? User()
                let name = "\(user.firstName) \(user.lastName)".trimmingCharacters(in: .whitespaces)
                print("Signed in as \(user.email)\(name.isEmpty ? "" : " (\(name))"), user \(user.id).")
                if let account = me.currentAccount {
                    print("Current account: \(account.name) (\(account.id)).")
                } else {
                    print("No current account: you belong to no account yet.")
                }
            default:
                print("Anonymous (Unix uid \(me.peerUid)): only sign-in, invitations and health.")
            }
        }
    }
}
