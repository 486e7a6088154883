import Foundation

/// The real time of the system.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
