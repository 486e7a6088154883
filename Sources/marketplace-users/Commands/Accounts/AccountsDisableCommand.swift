import ArgumentParser
import MarketplaceClient

struct AccountsDisableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable an account (operators): its members can no longer act in it.",
        discussion: """
            From the next call on, the account's administrators are refused
            (FAILED_PRECONDITION), access checks answer account_disabled, nobody can
            be invited into it or accept its invitations, and it cannot be made the
            current account. Memberships, groups and invitations are kept: undo with
            `accounts enable`. Disabling a disabled account changes nothing and
            succeeds (exit 0). Asks for confirmation on a terminal; pass --yes in
            scripts. JSON: the Account after the change.
            Examples:
              marketplace-users accounts disable ACC-1234-5678
              marketplace-users accounts disable ACC-1234-5678 --yes --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var confirmation: ConfirmOptions

    @Argument(help: "The account id, ACC-1234-5678.")
    var accountID: String

    func validate() throws { try IDKind.account.check(accountID, "account id") }

    func run() async throws {
        try await connection.run(hint: CLIErrors.accountHint) { client in
            try await confirmation.confirm(action: "disable \(accountID)") {
                let account = try await client.accounts.getAccount(.init(accountId: accountID)).account ?? Account()
                return "Disable \(account.name) (\(accountID)) for every member?"
            }
            let account = try await client.accounts.disableAccount(.init(accountId: accountID)).account ?? Account()
            if connection.json { try Output.printJSON(account) } else { Display.account(account) }
        }
    }
}

struct AccountsEnableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Re-enable a disabled account (operators).",
        discussion: """
            Its members act in it again as their memberships allow. Enabling an
            active account changes nothing and succeeds (exit 0). JSON: the Account
            after the change.
            Examples:
              marketplace-users accounts enable ACC-1234-5678
              marketplace-users accounts enable ACC-1234-5678 --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The account id, ACC-1234-5678.")
    var accountID: String

    func validate() throws { try IDKind.account.check(accountID, "account id") }

    func run() async throws {
        try await connection.run(hint: CLIErrors.accountHint) { client in
            let account = try await client.accounts.enableAccount(.init(accountId: accountID)).account ?? Account()
            if connection.json { try Output.printJSON(account) } else { Display.account(account) }
        }
    }
}
