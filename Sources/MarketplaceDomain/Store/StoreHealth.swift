/// A store that can say whether its storage answers right now, for
/// `Health/Check`: a server whose database is unreachable reports NOT_SERVING
/// until it is back. A store without this capability (an embedded file) is
/// always considered available.
public protocol StoreHealth: Sendable {
    /// Whether the storage answers now. Cheap (results may be cached for about
    /// a second), bounded by a short timeout, and never blocks the caller's thread.
    func isAvailable() async -> Bool
}
