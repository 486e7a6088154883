import ArgumentParser
import MarketplaceClient

struct UsersGroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "Show or change the groups an account user holds.",
        discussion: """
            Without options, lists the groups. --add and --remove change the current
            set on the server in one step (AddAccountUserGroups,
            RemoveAccountUserGroups), so two administrators editing one member at
            once both take effect; --set replaces the whole set. At least one group
            must remain.
            JSON: the AccountUser (after the change).
            Examples:
              marketplace-users users groups AUSR-1234-5678-9012
              marketplace-users users groups AUSR-1234-5678-9012 --add UGR-2222-3333 \\
                  --remove UGR-1111-2222
              marketplace-users users groups AUSR-1234-5678-9012 --set UGR-2222-3333
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The account user, AUSR-1234-5678-9012.")
    var accountUserID: String

    @Option(help: ArgumentHelp("Add this group (repeatable).", valueName: "group-id"))
    var add: [String] = []

    @Option(help: ArgumentHelp("Remove this group (repeatable).", valueName: "group-id"))
    var remove: [String] = []

    @Option(help: ArgumentHelp("Replace the groups with these (repeatable).", valueName: "group-id"))
    var set: [String] = []

    func validate() throws {
        try IDKind.accountUser.check(accountUserID, "account user id")
        for group in add + remove + set { try IDKind.group.check(group, "group") }
        if !set.isEmpty && !(add.isEmpty && remove.isEmpty) {
            throw ValidationError("use either --set, or --add/--remove")
        }
    }

    func run() async throws {
        try await connection.run(hint: CLIErrors.accountUserHint(accountUserID)) { client in
            var member: AccountUser
            if !set.isEmpty {
                member = try await client.accountUsers.updateAccountUserGroups(
                    .init(accountUserId: accountUserID, groupIds: set)).requiredAccountUser
            } else if add.isEmpty && remove.isEmpty {
                member = try await client.accountUsers.getAccountUser(.init(accountUserId: accountUserID)).requiredAccountUser
            } else {
                // Added first, so that swapping a member's only group never leaves none.
                member = AccountUser()
                if !add.isEmpty {
                    member = try await client.accountUsers.addAccountUserGroups(
                        .init(accountUserId: accountUserID, groupIds: add)).requiredAccountUser
                }
                if !remove.isEmpty {
                    member = try await client.accountUsers.removeAccountUserGroups(
                        .init(accountUserId: accountUserID, groupIds: remove)).requiredAccountUser
                }
            }
            if connection.json {
                try Output.printJSON(member)
            } else {
                Output.printTable(["id", "name"], member.groups.map { [$0.id, $0.name] }, empty: "No groups.")
            }
        }
    }
}
