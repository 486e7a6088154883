import ArgumentParser
import MarketplaceServer

/// `marketplace-usersd`: `serve` (the default, so that the bare command and
/// its flags start the server), `backup`, `restore`, `keygen`
/// and `migrate-to`.
@main
struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marketplace-usersd",
        abstract: "The marketplace users and invitations service, on a Unix socket.",
        discussion: """
            With no subcommand, serves (see `marketplace-usersd serve --help` for every option).
            Example:
              marketplace-usersd --socket ./marketplace-users.sock --data-dir ./data
              marketplace-usersd backup --data-dir ./data --to ./users-backup.db
              marketplace-usersd restore --from ./users-backup.db --data-dir ./data-restored
              marketplace-usersd keygen --key-file /etc/marketplace-users/secrets.key
              marketplace-usersd migrate-to --data-dir ./data --database postgres://marketplace@/users?host=/run/postgresql
            """,
        version: ServiceVersion.current,
        subcommands: [Serve.self, Backup.self, Restore.self, Keygen.self, MigrateTo.self],
        defaultSubcommand: Serve.self)
}
