import Foundation

/// The source of the current time for every rule that depends on it
/// (invitation expiry, audit times). Tests inject a ``ManualWallClock``.
public protocol WallClock: Sendable {
    /// The current time.
    func now() -> Date
}
