import ArgumentParser
import Foundation
import MarketplaceClient

struct SignInCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-in",
        abstract: "Sign in as a person; later commands act as them until sign-out.",
        discussion: """
            The password is read without echo on a terminal, or from the first line
            of stdin with --password-stdin; never from an argument. The session token
            is kept in a file only you can read (mode 0600):
            MARKETPLACE_USERS_SESSION_FILE, else
            $XDG_STATE_HOME/marketplace-users/session.json, else
            $HOME/.local/state/marketplace-users/session.json.
            Too many failed attempts are throttled: exit 8, and the message says
            when to try again.
            Operators need no sign-in: the server knows them by their Unix user.
            JSON: {"user": User, "session": SessionInfo} (the token is never printed).
            Examples:
              marketplace-users sign-in --email ada@example.com
              printf '%s\\n' "$PASSWORD" | marketplace-users sign-in --email ada@example.com --password-stdin
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The email address of the login.")
    var email: String

    @Flag(help: "Read the password from the first line of stdin.")
    var passwordStdin = false

    func run() async throws {
        var signOnly = connection
        signOnly.noSession = true
        try await signOnly.run { client in
            let password = try Terminal.readPassword(fromStdin: passwordStdin, prompt: "Password for \(email): ")
            let response = try await client.sessions.signIn(.init(email: email, password: password))
            try SessionFile(
                socket: SessionFile.absolute(connection.socket), token: response.token,
                email: response.user?.email ?? email, expiresAt: response.session?.expiresAt
            ).save()
            if connection.json {
                try Output.printJSON(SignedInOutput(user: response.user, session: response.session))
            } else {
                let account = response.session?.currentAccountId ?? ""
                print("Signed in as \(response.user?.email ?? email)"
                    + (account.isEmpty ? "; you belong to no account yet." : " in account \(account)."))
            }
        }
    }

    private struct SignedInOutput: Encodable {
        let user: User?
        let session: SessionInfo?
    }
}
