import ArgumentParser
import MarketplaceClient

struct GroupsCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a group in an account.",
        discussion: """
            One group per account is the administrators' group; one may be the default.
            Examples:
              marketplace-users groups create --account ACC-1234-5678 Administrators \\
                  --administrators \\
                  --permission users.manage
              marketplace-users groups create --account ACC-1234-5678 Buyers --default \\
                  --description "Can order"
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: ArgumentHelp("The account, ACC-1234-5678.", valueName: "account-id"))
    var account: String

    @Argument(help: "The group's name, 1 to 100 characters, unique in the account.")
    var name: String

    @Option(help: "What the group is for.")
    var description: String = ""

    @Option(name: .customLong("permission"), help: ArgumentHelp("A permission, e.g. users.manage (repeatable).", valueName: "permission"))
    var permissions: [String] = []

    @Flag(help: "Make it the account's administrators' group.")
    var administrators = false

    @Flag(name: .customLong("default"), help: "Propose this group by default when inviting.")
    var isDefault = false

    func validate() throws {
        try IDKind.account.check(account, "--account")
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("the group name must not be empty") }
    }

    func run() async throws {
        try await connection.run(hint: CLIErrors.accountHint) { client in
            let request = CreateGroupRequest(
                accountId: account, name: name, description: description, permissions: permissions,
                isAdministrators: administrators, isDefault: isDefault)
            let group = try await client.groups.createGroup(request).group ?? Group()
            if connection.json { try Output.printJSON(group) } else { Display.group(group) }
        }
    }
}
