import ArgumentParser
import MarketplaceClient

/// `marketplace-users`: the operators' tool, built only on the client library.
@main
struct MarketplaceUsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marketplace-users",
        abstract: "Operate the marketplace users service over its Unix socket.",
        discussion: """
            The socket comes from --socket or MARKETPLACE_USERS_SOCKET
            (default ./marketplace-users.sock, the server's default). The server
            recognises operators by their Unix user; no password is needed. A person
            signs in with sign-in; later commands act as them until sign-out.
            Every command prints a table or detail view, or JSON with --json.
            The full reference is docs/cli.md.

            Examples:
              marketplace-users health
              marketplace-users accounts create "Acme Ltd" --type client
              marketplace-users users invite --account ACC-1234-5678 \\
                  --email ada@example.com \\
                  --first-name Ada --last-name Lovelace --group UGR-1234-5678
              marketplace-users users list --account ACC-1234-5678 --all --json
              marketplace-users --generate-completion-script bash \\
                  > /etc/bash_completion.d/marketplace-users

            \(CLIErrors.helpText)
            """,
        version: ClientVersion.current,
        subcommands: [
            AccountsCommand.self, GroupsCommand.self, UsersCommand.self, InvitationsCommand.self,
            AuditCommand.self, OutboxCommand.self, HealthCommand.self,
            SignInCommand.self, SignOutCommand.self, SwitchAccountCommand.self, WhoAmICommand.self, ProfileCommand.self,
            AccessCommand.self, ChangesCommand.self, CallCommand.self,
        ])
}
