import ArgumentParser

/// `--yes` for destructive commands.
struct ConfirmOptions: ParsableArguments {
    @Flag(name: [.customShort("y"), .long], help: "Do it without asking (needed when stdin is not a terminal).")
    var yes = false

    /// Refuses at once when there is nobody to ask; otherwise asks the question
    /// `describe` builds (it may call the server to name the target).
    func confirm(action: String, _ describe: () async throws -> String) async throws {
        if yes { return }
        try Confirmation.require("", yes: false, action: action, askOnly: false)
        let question = try await describe()
        try Confirmation.require(question, yes: false, action: action, askOnly: true)
    }
}
