import ArgumentParser
import MarketplaceClient

struct SwitchAccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switch-account",
        abstract: "List your accounts, or make one of them current, without signing in again.",
        discussion: """
            Needs a sign-in. Without an argument, lists the accounts you belong to and
            marks the current one. With an account id, makes it current: what you may
            do follows your rights in that account.
            JSON: a list of MyAccount, or the new SessionInfo.
            Examples:
              marketplace-users switch-account
              marketplace-users switch-account ACC-1234-5678
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The account to make current.")
    var accountID: String?

    func validate() throws {
        if let accountID { try IDKind.account.check(accountID, "account id") }
    }

    func run() async throws {
        try await connection.run { client in
            if let accountID {
                let session = try await client.sessions.switchAccount(.init(accountId: accountID)).session ?? SessionInfo()
                if connection.json { try Output.printJSON(session) } else { print("Current account: \(session.currentAccountId)") }
                return
            }
            let accounts = try await client.sessions.listMyAccounts(.init()).accounts
            if connection.json { try Output.printJSON(accounts); return }
            Output.printTable(
                ["", "ACCOUNT", "NAME", "STATUS", "ROLE"],
                accounts.map { mine in
                    [mine.isCurrent ? "*" : "", mine.account?.id ?? "", mine.account?.name ?? "",
                     mine.status.protoName.replacingOccurrences(of: "MEMBERSHIP_STATUS_", with: "").capitalized,
                     mine.isAdministrator ? "administrator" : "member"]
                },
                empty: "You belong to no account.")
        }
    }
}
