import ArgumentParser
import MarketplaceClient

struct UsersListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List an account's users, or with no --account every user of the platform.",
        discussion: """
            With --account: name, ids, email, joined date (or the invitation state),
            last sign-in, groups (a count when several) and status; filter by
            --status, --group and --query (id, name or email); sort with --sort.
            JSON: {"accountUsers": [AccountUser...], "nextPageToken": "..."}.
            Without --account: {"users": [User...], "nextPageToken": "..."}.
            Examples:
              marketplace-users users list --account ACC-1234-5678
              marketplace-users users list --account ACC-1234-5678 --status invited \\
                  --status invitation-expired
              marketplace-users users list --account ACC-1234-5678 --query ada \\
                  --sort joined --descending
              marketplace-users users list --all --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: PageOptions

    @Option(help: ArgumentHelp("The account, ACC-1234-5678; without it, every user of the platform.", valueName: "account-id"))
    var account: String?

    @Option(help: ArgumentHelp("Only this status (repeatable).", valueName: "status"))
    var status: [MembershipStatus] = []

    @Option(help: ArgumentHelp("Only members of this group.", valueName: "group-id"))
    var group: String?

    @Option(help: "Only users whose id, name or email contains this text.")
    var query: String?

    @Option(help: "Order.")
    var sort: AccountUserSort = .name

    @Flag(help: "Reverse the order.")
    var descending = false

    func validate() throws {
        if let account {
            try IDKind.account.check(account, "--account")
            if let group { try IDKind.group.check(group, "--group") }
        } else if !status.isEmpty || group != nil || query != nil || descending || sort != .name {
            throw ValidationError("--status, --group, --query, --sort and --descending need --account")
        }
    }

    func run() async throws {
        guard let account else {
            try await connection.run { client in
                let (users, next) = try await page.collect { token in
                    let response = try await client.users.listUsers(.init(pageSize: page.size, pageToken: token))
                    return (response.users, response.nextPageToken)
                }
                if connection.json {
                    try Output.printJSON(PageJSON(key: "users", items: users, nextPageToken: next))
                } else {
                    Display.users(users)
                    page.printNextPageHint(next)
                }
            }
            return
        }
        try await connection.run(hint: CLIErrors.accountHint) { client in
            let (members, next) = try await page.collect { token in
                let response = try await client.accountUsers.listAccountUsers(.init(
                    accountId: account, statuses: status, groupId: group ?? "", query: query ?? "", sort: sort,
                    descending: descending, pageSize: page.size, pageToken: token))
                return (response.accountUsers, response.nextPageToken)
            }
            if connection.json {
                try Output.printJSON(PageJSON(key: "accountUsers", items: members, nextPageToken: next))
            } else {
                Display.accountUsers(members)
                page.printNextPageHint(next)
            }
        }
    }
}
