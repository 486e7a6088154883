import ArgumentParser
import Foundation
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
              marketplace-users audit list --account ACC-1234-5678 --action account_user.invited \\
                  --actor operator:0 --since 2026-01-01T00:00:00Z --until 2026-02-01T00:00:00Z
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: PageOptions

    @Option(help: ArgumentHelp("The account, ACC-1234-5678.", valueName: "account-id"))
    var account: String

    @Option(help: ArgumentHelp("Only events of this action, e.g. account_user.invited.", valueName: "action"))
    var action: String = ""

    @Option(help: ArgumentHelp("Only events by this actor: a user id, operator:<uid> or anonymous.", valueName: "actor"))
    var actor: String = ""

    @Option(help: ArgumentHelp("Only events at or after this time (RFC 3339, e.g. 2026-01-01T00:00:00Z).", valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("Only events before this time (RFC 3339).", valueName: "time"))
    var until: String?

    func validate() throws {
        try IDKind.account.check(account, "--account")
        _ = try Self.time(since, "--since")
        _ = try Self.time(until, "--until")
    }

    static func time(_ text: String?, _ option: String) throws -> Date? {
        guard let text else { return nil }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        throw ValidationError("\(option) must be an RFC 3339 time, e.g. 2026-01-01T00:00:00Z (got \"\(text)\")")
    }

    func run() async throws {
        try await connection.run(hint: CLIErrors.accountHint) { client in
            let (events, next) = try await page.collect { token in
                let response = try await client.audit.listAuditEvents(
                    .init(
                        accountId: account, pageSize: page.size, pageToken: token, action: action, actor: actor,
                        since: try Self.time(since, "--since"), until: try Self.time(until, "--until")))
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
