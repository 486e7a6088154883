/// One page of a listing.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    /// Pass to the next call to get the following page; empty when this is the last.
    public var nextPageToken: String

    public init(items: [Item], nextPageToken: String) {
        self.items = items
        self.nextPageToken = nextPageToken
    }
}

extension Page: Equatable where Item: Equatable {}
