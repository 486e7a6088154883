/// Filters, sort and page of a membership listing.
public struct AccountUserListRequest: Sendable, Equatable {
    /// Statuses to include; empty means all.
    public var statuses: Set<MembershipStatus>
    /// Only members of this group (`UGR-...`).
    public var groupID: String?
    /// Text to find (case-insensitive) in the membership id, user id, name or email.
    public var query: String
    public var sort: AccountUserQuery.SortField
    public var descending: Bool
    /// 0 means the default (50); otherwise 1...500.
    public var pageSize: Int
    /// Empty for the first page; then the previous page's `nextPageToken`.
    public var pageToken: String

    public init(
        statuses: Set<MembershipStatus> = [], groupID: String? = nil, query: String = "",
        sort: AccountUserQuery.SortField = .name, descending: Bool = false, pageSize: Int = 0, pageToken: String = ""
    ) {
        self.statuses = statuses
        self.groupID = groupID
        self.query = query
        self.sort = sort
        self.descending = descending
        self.pageSize = pageSize
        self.pageToken = pageToken
    }
}
