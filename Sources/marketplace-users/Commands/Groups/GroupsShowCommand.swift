import ArgumentParser
import MarketplaceClient

struct GroupsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one group and its permissions.",
        discussion: """
            Examples:
              marketplace-users groups show UGR-1234-5678
              marketplace-users groups show UGR-1234-5678 --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The group id, UGR-1234-5678.")
    var groupID: String

    func validate() throws { try IDKind.group.check(groupID, "group id") }

    func run() async throws {
        try await connection.run(hint: { $0.code == .notFound ? "list an account's groups with `marketplace-users groups list --account ACC-...`" : nil }) { client in
            let group = try await client.groups.getGroup(.init(groupId: groupID)).group ?? Group()
            if connection.json { try Output.printJSON(group) } else { Display.group(group) }
        }
    }
}
