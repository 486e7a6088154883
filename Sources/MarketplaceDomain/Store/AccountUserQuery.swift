import Foundation

/// A keyset-paged query over one account's memberships, built by the domain
/// and executed by a ``StoreReader``.
public struct AccountUserQuery: Sendable, Equatable {
    /// The column a listing is sorted by; ties are broken by membership id.
    public enum SortField: String, Sendable, CaseIterable {
        /// ``AccountUserQuery/nameKey(firstName:lastName:)``: last name, then first name.
        case name
        /// The normalised email.
        case email
        /// `joinedAt` in milliseconds, ``never`` when not joined (last ascending).
        case joined
        /// The user's `lastSignInAt` in milliseconds, ``never`` when never (last ascending).
        case lastSignIn
    }

    /// A sort key value: text for name/email, milliseconds for times.
    public enum SortKey: Sendable, Equatable, Hashable {
        case text(String)
        case time(Int64)
    }

    /// The position after which a page starts.
    public struct Cursor: Sendable, Equatable {
        public var key: SortKey
        public var id: String
        public init(key: SortKey, id: String) {
            self.key = key
            self.id = id
        }
    }

    public var accountID: String
    /// Statuses to include (resolved at ``now``); empty means all.
    public var statuses: Set<MembershipStatus>
    /// Only members of this group.
    public var groupID: String?
    /// Lowercased text to find in the membership id, user id, name or email.
    public var text: String?
    public var sort: SortField
    public var descending: Bool
    public var after: Cursor?
    /// At most this many rows.
    public var limit: Int
    /// The time at which `invited` vs `invitationExpired` is decided.
    public var now: Date

    public init(
        accountID: String, statuses: Set<MembershipStatus> = [], groupID: String? = nil, text: String? = nil,
        sort: SortField = .name, descending: Bool = false, after: Cursor? = nil, limit: Int, now: Date
    ) {
        self.accountID = accountID
        self.statuses = statuses
        self.groupID = groupID
        self.text = text
        self.sort = sort
        self.descending = descending
        self.after = after
        self.limit = limit
        self.now = now
    }

    /// The name sort key a backend must store for a user: the lowercased last
    /// name, U+0001, the lowercased first name. The separator sorts before any
    /// character a name may hold, so "Van, Zed" comes before "Van Dyke, Al".
    public static func nameKey(firstName: String, lastName: String) -> String {
        (lastName + "\u{1}" + firstName).lowercased()
    }

    /// The time sort key a backend stores for "never" (not joined, never signed
    /// in): after every time, so those come last ascending and first descending.
    public static let never = Int64.max

    /// The time sort key of `date`.
    public static func timeKey(_ date: Date?) -> Int64 {
        date?.millisecondsSince1970 ?? never
    }

    /// The sort key of `member` for `field`, matching what backends store:
    /// of the person as the membership shows them (``AccountUser/shownUser``),
    /// so a member who has not accepted sorts by the typed names and as never
    /// signed in, and the text query matches the typed names only.
    public static func key(of member: AccountUser, for field: SortField) -> SortKey {
        let shown = member.shownUser
        switch field {
        case .name: return .text(nameKey(firstName: shown.firstName, lastName: shown.lastName))
        case .email: return .text(shown.email)
        case .joined: return .time(timeKey(member.joinedAt))
        case .lastSignIn: return .time(timeKey(shown.lastSignInAt))
        }
    }
}
