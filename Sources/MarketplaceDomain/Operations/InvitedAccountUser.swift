/// A membership with its current invitation link (for "copy link").
public struct InvitedAccountUser: Sendable, Equatable {
    public var accountUser: AccountUser
    /// The configured base URL followed by the invitation token.
    public var link: String

    public init(accountUser: AccountUser, link: String) {
        self.accountUser = accountUser
        self.link = link
    }
}
