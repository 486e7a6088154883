import ArgumentParser
import MarketplaceClient

struct GroupsDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a group: members who hold it lose it.",
        discussion: """
            Refused for the administrators' group and for a group that is any
            member's only group (give them another first with `users groups`).
            Asks for confirmation on a terminal; pass --yes in scripts.
            JSON: {"deleted": true, "groupId": "UGR-..."}.
            Examples:
              marketplace-users groups delete UGR-1234-5678
              marketplace-users groups delete UGR-1234-5678 --yes --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var confirmation: ConfirmOptions

    @Argument(help: "The group, UGR-1234-5678.")
    var groupID: String

    func validate() throws { try IDKind.group.check(groupID, "group id") }

    struct Deleted: Encodable {
        var deleted = true
        var groupId: String
    }

    func run() async throws {
        try await connection.run(hint: { error in
            switch error.code {
            case .notFound: "list the account's groups with `marketplace-users groups list --account ACC-...`"
            case .failedPrecondition where error.message.contains("only group"):
                "find its members with `marketplace-users users list --account ACC-... --group \(groupID)`"
            default: nil
            }
        }) { client in
            try await confirmation.confirm(action: "delete \(groupID)") {
                let group = try await client.groups.getGroup(.init(groupId: groupID)).group ?? Group()
                return "Delete the group \(group.name) (\(groupID)) of \(group.accountId)?"
            }
            _ = try await client.groups.deleteGroup(.init(groupId: groupID))
            if connection.json { try Output.printJSON(Deleted(groupId: groupID)) } else { print("Deleted group \(groupID).") }
        }
    }
}
