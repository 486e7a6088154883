import ArgumentParser
import MarketplaceClient

struct GroupsUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Rename a group, change its description or its permissions.",
        discussion: """
            Only the options given change. --permission replaces the whole list
            (repeat it for each); --clear-permissions empties it. The
            administrators' group's permissions only grow: removing one of them is
            refused. Names are unique in the account, ignoring case. JSON: the Group
            after the change.
            Examples:
              marketplace-users groups update UGR-1234-5678 --name "Buyers EU"
              marketplace-users groups update UGR-1234-5678 \\
                  --permission orders.create --permission orders.view --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The group, UGR-1234-5678.")
    var groupID: String

    @Option(help: "The new name, 1 to 100 characters, unique in the account.")
    var name: String?

    @Option(help: "The new description (empty to remove it).")
    var description: String?

    @Option(name: .customLong("permission"), help: ArgumentHelp("A permission of the new list (repeatable).", valueName: "permission"))
    var permissions: [String] = []

    @Flag(help: "Remove every permission.")
    var clearPermissions = false

    func validate() throws {
        try IDKind.group.check(groupID, "group id")
        if clearPermissions && !permissions.isEmpty { throw ValidationError("--clear-permissions and --permission exclude each other") }
        guard name != nil || description != nil || !permissions.isEmpty || clearPermissions else {
            throw ValidationError("nothing to change: pass --name, --description, --permission or --clear-permissions")
        }
    }

    func run() async throws {
        var request = UpdateGroupRequest(groupId: groupID)
        var fields: [String] = []
        if let name { request.name = name; fields.append("name") }
        if let description { request.description = description; fields.append("description") }
        if !permissions.isEmpty || clearPermissions { request.permissions = permissions; fields.append("permissions") }
        request.fields = fields
        let sent = request
        try await connection.run(hint: { error in
            error.code == .notFound ? "list the account's groups with `marketplace-users groups list --account ACC-...`" : nil
        }) { client in
            let group = try await client.groups.updateGroup(sent).group ?? Group()
            if connection.json { try Output.printJSON(group) } else { Display.group(group) }
        }
    }
}
