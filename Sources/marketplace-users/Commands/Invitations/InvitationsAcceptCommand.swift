import ArgumentParser
import Foundation
import MarketplaceClient

struct InvitationsAcceptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accept",
        abstract: "Accept a pending invitation, as the invitee.",
        discussion: """
            A person without a login chooses a password (at least 8 characters with a
            lowercase and an uppercase letter, a digit and a special character); a
            person who has one gives that password instead. The password is read
            without echo on a terminal, or from the first line of stdin with
            --password-stdin; never from an argument. --accept-terms is required.
            JSON: the AccountUser, now Active.
            Examples:
              marketplace-users invitations accept TOKEN --first-name Ada \\
                  --last-name Lovelace --accept-terms
              printf '%s\\n' "$PASSWORD" | marketplace-users invitations accept TOKEN \\
                  --first-name Ada --last-name Lovelace --accept-terms --password-stdin
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var token: TokenArgument

    @Option(help: "First name, 1 to 100 characters.")
    var firstName: String

    @Option(help: "Last name, 1 to 100 characters.")
    var lastName: String

    @Option(help: ArgumentHelp("Optional phone with its country prefix, e.g. \"+44 20 7123 4567\".", valueName: "phone"))
    var phone: String?

    @Flag(help: "Agree to the terms of use (required).")
    var acceptTerms = false

    @Flag(help: "Read the password from the first line of stdin.")
    var passwordStdin = false

    func validate() throws {
        guard acceptTerms else { throw ValidationError("accepting needs --accept-terms: the person agrees to the terms of use") }
        if let phone {
            do { _ = try PhoneParsing.parse(phone) } catch { throw ValidationError("--phone: \(error.message)") }
        }
    }

    func run() async throws {
        if !passwordStdin && !Terminal.stdinIsTerminal {
            Output.note("marketplace-users: no terminal to read the password from; pipe it with --password-stdin")
            throw ExitCode(CLIErrors.ExitStatus.usage)
        }
        try await connection.run(hint: { error in
            switch error.code {
            case .unauthenticated: "this email already has a login: give its current password"
            case .invalidArgument where error.message.contains("password"):
                "choose a password of at least 8 characters with a lowercase and an uppercase letter, a digit and a special character"
            default: TokenArgument.hint(error)
            }
        }) { client in
            // The view names the account, shown after accepting.
            let view = try await client.invitations.showInvitation(.init(token: token.token)).invitation ?? InvitationView()
            let password = try readPassword(view)
            let request = AcceptInvitationRequest(
                token: token.token, firstName: firstName, lastName: lastName,
                phone: phone ?? "", password: password, acceptTerms: true)
            let member = try await client.invitations.acceptInvitation(request).accountUser ?? AccountUser()
            if connection.json {
                try Output.printJSON(member)
            } else {
                let account = view.accountName.isEmpty ? member.accountId : "\(view.accountName) (\(member.accountId))"
                print("Welcome, \(firstName)! You are now a member of \(account) as \(member.id).")
            }
        }
    }

    private func readPassword(_ view: InvitationView) throws -> String {
        if passwordStdin {
            guard let line = Terminal.readLine(), !line.isEmpty else {
                throw CLIFailure("--password-stdin: stdin is empty; write the password on its first line", exitStatus: CLIErrors.ExitStatus.usage)
            }
            return line.hasSuffix("\r") ? String(line.dropLast()) : line
        }
        // The service does not say whether the email already has a login: the
        // invitee knows. Their existing password, or a new one, typed twice
        // (asked again when the two differ).
        return try Terminal.readNewPassword(
            prompt: "Password for \(Output.singleLine(view.email)) (your existing login's, or a new one): ")
    }
}
