/// What a user may do in one account right now, read from storage at each call
/// so that blocking, removal or deletion take effect on the very next call.
public struct AccountAccess: Sendable, Equatable {
    /// The user's membership of the account; `nil` when there is none.
    public var accountUserID: String?
    /// The membership's status (expiry resolved); `nil` when there is none.
    public var status: MembershipStatus?
    /// `true` only when ``status`` is `active` and the membership holds the
    /// account's administrators' group.
    public var isAdministrator: Bool

    public init(accountUserID: String?, status: MembershipStatus?, isAdministrator: Bool) {
        self.accountUserID = accountUserID
        self.status = status
        self.isAdministrator = isAdministrator
    }

    /// No membership at all.
    public static let none = AccountAccess(accountUserID: nil, status: nil, isAdministrator: false)

    /// Whether the user is an `active` member (administrator or not).
    public var isActiveMember: Bool { status == .active }
}
