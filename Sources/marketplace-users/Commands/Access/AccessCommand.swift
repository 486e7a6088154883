import ArgumentParser

struct AccessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access",
        abstract: "Check a session's access, as an internal service would.",
        discussion: """
            Examples:
              marketplace-users access check --token "$TOKEN" --permission orders.read
              marketplace-users access check --token "$TOKEN" --account ACC-1234-5678 --json
            """,
        subcommands: [AccessCheckCommand.self])
}
