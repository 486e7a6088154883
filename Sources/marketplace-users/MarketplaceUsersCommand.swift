import ArgumentParser

/// `marketplace-users`: the operators' tool, built only on the client library.
@main
struct MarketplaceUsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marketplace-users",
        abstract: "Operate the marketplace users service over its Unix socket.",
        discussion: """
            The socket comes from --socket or MARKETPLACE_USERS_SOCKET
            (default ./marketplace-users.sock, the server's default).
            Example:
              marketplace-users health
            """,
        subcommands: [HealthCommand.self])
}
