/// Why bytes could not be decoded as a message of the contract.
public struct ProtoDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message type being decoded, e.g. `marketplace.health.v1.CheckRequest`.
    public var messageType: String
    /// What was wrong, naming the field where it is known.
    public var reason: String

    public init(messageType: String, reason: String) {
        self.messageType = messageType
        self.reason = reason
    }

    public var description: String { "cannot decode \(messageType): \(reason)" }
}
