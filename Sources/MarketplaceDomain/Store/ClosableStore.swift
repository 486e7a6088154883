/// A store holding resources (connections, threads) that must be released
/// when the server using it stops. Whoever opened the store closes it once.
public protocol ClosableStore: Sendable {
    /// Releases the store's resources; calls made afterwards fail `unavailable`.
    /// Idempotent.
    func close() async
}
