/// One account a user has joined, as the user sees it in "my accounts".
public struct MyAccount: Sendable, Equatable {
    public var account: Account
    /// The user's membership (`AUSR-...`).
    public var accountUserID: String
    /// `active` or `blocked`.
    public var status: MembershipStatus
    /// Whether the membership is `active` and holds the account's administrators' group.
    public var isAdministrator: Bool

    public init(account: Account, accountUserID: String, status: MembershipStatus, isAdministrator: Bool) {
        self.account = account
        self.accountUserID = accountUserID
        self.status = status
        self.isAdministrator = isAdministrator
    }
}
