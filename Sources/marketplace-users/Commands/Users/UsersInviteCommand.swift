import ArgumentParser
import Foundation
import MarketplaceClient

struct UsersInviteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invite",
        abstract: "Invite a person to an account, or many from a CSV file.",
        discussion: """
            Creates the user if the email is new, the membership (Invited), and an
            invitation link valid 7 days, printed so it can be copied at once. A
            removed (Disabled) member is invited again.

            --csv FILE: a header row, then one person per row. Columns (any order):
            email, first_name, last_name, phone (optional, "+44 20 7123 4567"), groups
            (group ids separated by ";"; when empty, the --group options are used).
            Every row is checked first; if any is bad, all bad rows are listed with
            their line numbers and nobody is invited, unless --continue-on-error.
            A row whose email is already a member is reported "already a member",
            so running the same file twice invites nobody twice. Exit 0 when every
            row is invited or already a member, 5 when any row was refused or
            skipped, 6 when rows are invalid and nothing was invited.

            Examples:
              marketplace-users users invite --account ACC-1234-5678 \\
                  --email ada@example.com \\
                  --first-name Ada --last-name Lovelace --phone "+44 20 7123 4567" \\
                  --group UGR-1234-5678
              marketplace-users users invite --account ACC-1234-5678 --csv people.csv
              marketplace-users users invite --account ACC-1234-5678 --csv people.csv \\
                  --continue-on-error --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: ArgumentHelp("The account, ACC-1234-5678.", valueName: "account-id"))
    var account: String

    @Option(help: "The person's email address.")
    var email: String?

    @Option(help: "First name, 1 to 100 characters.")
    var firstName: String?

    @Option(help: "Last name, 1 to 100 characters.")
    var lastName: String?

    @Option(help: ArgumentHelp("Optional phone with its country prefix, e.g. \"+44 20 7123 4567\".", valueName: "phone"))
    var phone: String?

    @Option(name: .customLong("group"), help: ArgumentHelp("A group of the account (repeatable; at least one).", valueName: "group-id"))
    var groups: [String] = []

    @Option(help: ArgumentHelp("Invite everyone in a CSV file instead (see above).", valueName: "file"))
    var csv: String?

    @Flag(help: "With --csv: invite the valid rows even when others are bad.")
    var continueOnError = false

    func validate() throws {
        try IDKind.account.check(account, "--account")
        for group in groups { try IDKind.group.check(group, "--group") }
        if csv != nil {
            guard email == nil, firstName == nil, lastName == nil, phone == nil else {
                throw ValidationError("--csv takes the people from the file; leave out --email, --first-name, --last-name and --phone")
            }
        } else {
            guard !continueOnError else { throw ValidationError("--continue-on-error goes with --csv") }
            guard email != nil else { throw ValidationError("give --email (with --first-name, --last-name and --group), or --csv FILE") }
            guard firstName != nil, lastName != nil else { throw ValidationError("--first-name and --last-name are required") }
            guard !groups.isEmpty else { throw ValidationError("give at least one --group of the account") }
            if let phone {
                do { _ = try PhoneParsing.parse(phone) } catch { throw ValidationError("--phone: \(error.message)") }
            }
        }
    }

    func run() async throws {
        if let csv {
            try await connection.run(hint: CLIErrors.accountHint) { client in
                try await BulkInvite(
                    client: client, account: account, path: csv, defaultGroups: groups,
                    continueOnError: continueOnError, json: connection.json
                ).run()
            }
            return
        }
        try await connection.run(hint: { error in
            switch error.code {
            case .alreadyExists: "see them with `marketplace-users users list --account \(account) --query \(email ?? "")`"
            case .notFound: "check the ids with `marketplace-users groups list --account \(account)`"
            default: nil
            }
        }) { client in
            let request = InviteUserRequest(
                accountId: account, email: email ?? "", firstName: firstName ?? "", lastName: lastName ?? "",
                phone: phone ?? "", groupIds: groups)
            let response = try await client.accountUsers.inviteUser(request)
            if connection.json {
                try Output.printJSON(response)
            } else {
                Display.accountUser(response.accountUser ?? AccountUser(), link: response.invitationLink)
            }
        }
    }
}
