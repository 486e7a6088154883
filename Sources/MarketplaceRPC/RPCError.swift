/// The error of a call: a status code and a message for the developer.
///
/// Handlers throw it to refuse a call with a precise code; the client throws it
/// when the server answers anything but OK, or when the server cannot be
/// reached (`UNAVAILABLE`) or the deadline passes (`DEADLINE_EXCEEDED`).
public struct RPCError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The status code.
    public var code: StatusCode
    /// What went wrong, naming the field or state at fault.
    public var message: String

    public init(_ code: StatusCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name): \(message)" }
}
