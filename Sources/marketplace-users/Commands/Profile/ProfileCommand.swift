import ArgumentParser
import MarketplaceClient

struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Show or change your own profile and password (needs a sign-in).",
        subcommands: [ProfileShowCommand.self, ProfileUpdateCommand.self, ProfilePasswordCommand.self])
}

struct ProfileShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show your profile.",
        discussion: """
            JSON: the User.
            Example:
              marketplace-users profile show
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.run { client in
            let user = try await client.profile.getProfile(.init()).user ?? User()
            if connection.json { try Output.printJSON(user) } else { Display.user(user) }
        }
    }
}

struct ProfileUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change your name, phone, language, locale or icon.",
        discussion: """
            Only the options given change. --phone "" removes the phone.
            JSON: the updated User.
            Examples:
              marketplace-users profile update --first-name Augusta
              marketplace-users profile update --language fr --locale fr-FR
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option var firstName: String?
    @Option var lastName: String?
    @Option(help: "Country prefix and number, e.g. \"+44 20 7123 4567\"; empty to remove.") var phone: String?
    @Option(help: "e.g. en, fr-CA.") var language: String?
    @Option(help: "e.g. en-US.") var locale: String?
    @Option(help: "An icon name or https:// URL.") var icon: String?

    func validate() throws {
        guard [firstName, lastName, phone, language, locale, icon].contains(where: { $0 != nil }) else {
            throw ValidationError("give at least one of --first-name, --last-name, --phone, --language, --locale, --icon")
        }
    }

    func run() async throws {
        var request = UpdateProfileRequest()
        var fields: [String] = []
        if let firstName { request.firstName = firstName; fields.append("first_name") }
        if let lastName { request.lastName = lastName; fields.append("last_name") }
        if let phone { request.phone = phone; fields.append("phone") }
        if let language { request.language = language; fields.append("language") }
        if let locale { request.locale = locale; fields.append("locale") }
        if let icon { request.icon = icon; fields.append("icon") }
        request.fields = fields
        try await connection.run { client in
            let user = try await client.profile.updateProfile(request).user ?? User()
            if connection.json { try Output.printJSON(user) } else { Display.user(user) }
        }
    }
}

struct ProfilePasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password",
        abstract: "Change your password; your other sessions end.",
        discussion: """
            Reads the current and the new password without echo on a terminal, or the
            first two lines of stdin with --password-stdin; never from arguments.
            Example:
              marketplace-users profile password
              printf '%s\\n%s\\n' "$OLD" "$NEW" | marketplace-users profile password --password-stdin
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Read the current password, then the new one, from the first two lines of stdin.")
    var passwordStdin = false

    func run() async throws {
        try await connection.run(hint: { error in
            error.code == .invalidArgument
                ? "use at least 8 characters with a lowercase and an uppercase letter, a digit and a special character" : nil
        }) { client in
            let current = try Terminal.readPassword(fromStdin: passwordStdin, prompt: "Current password: ")
            let new = try passwordStdin
                ? Terminal.readPassword(fromStdin: true, prompt: "")
                : Terminal.readNewPassword(prompt: "New password: ")
            _ = try await client.profile.changePassword(.init(currentPassword: current, newPassword: new))
            print("Password changed; your other sessions have ended.")
        }
    }
}
