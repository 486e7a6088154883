import ArgumentParser
import MarketplaceClient

struct AuditListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List an account's audit events, newest first.",
        discussion: """
            Who did what to whom, and when. Actors are user ids, "operator:<uid>" or
            "anonymous" (an invitee holding a link).
            JSON: {"events": [AuditEvent...], "nextPageToken": "..."}.
            Examples:
              marketplace-users audit list --account ACC-1234-5678
              marketplace-users audit list --account ACC-1234-5678 --all --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: PageOptions

    @Option(help: ArgumentHelp("The account, ACC-1234-5678.", valueName: "account-id"))
    var account: String

    func validate() throws { try IDKind.account.check(account, "--account") }

    func run() async throws {
        try await connection.run(hint: CLIErrors.accountHint) { client in
            let (events, next) = try await page.collect { token in
                let response = try await client.audit.listAuditEvents(
                    .init(accountId: account, pageSize: page.size, pageToken: token))
                return (response.events, response.nextPageToken)
            }
            if connection.json {
                try Output.printJSON(PageJSON(key: "events", items: events, nextPageToken: next))
            } else {
                Display.auditEvents(events)
                page.printNextPageHint(next)
            }
        }
    }
}
