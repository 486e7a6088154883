/// The error of a call: a status code and a message for the developer.
///
/// Handlers throw it to refuse a call with a precise code; the client throws it
/// when the server answers anything but OK, or when the server cannot be
/// reached (`UNAVAILABLE`), the deadline passes (`DEADLINE_EXCEEDED`) or the
/// calling task is cancelled (`CANCELLED`).
public struct RPCError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The status code.
    public var code: StatusCode
    /// What went wrong, naming the field or state at fault.
    public var message: String
    /// The typed details of the server's `Status` (`google.rpc.Status.details`),
    /// as the wire carries them; empty when there are none.
    public var details: [Detail]
    /// The underlying error when the failure did not come from the server's
    /// answer: the socket error behind an `UNAVAILABLE`, the last attempt's
    /// error behind a `DEADLINE_EXCEEDED` after retries, and so on. Not sent on
    /// the wire and not part of equality.
    public var cause: (any Error & Sendable)?

    /// One `google.protobuf.Any` of a status's details.
    public struct Detail: Hashable, Sendable {
        public var typeURL: String
        public var value: [UInt8]

        public init(typeURL: String, value: [UInt8]) {
            self.typeURL = typeURL
            self.value = value
        }
    }

    public init(_ code: StatusCode, _ message: String) {
        self.code = code
        self.message = message
        self.details = []
        self.cause = nil
    }

    public init(_ code: StatusCode, _ message: String, details: [Detail] = [], cause: (any Error & Sendable)?) {
        self.code = code
        self.message = message
        self.details = details
        self.cause = cause
    }

    public var description: String { "\(code.name): \(message)" }

    public static func == (lhs: RPCError, rhs: RPCError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.details == rhs.details
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
        hasher.combine(details)
    }
}
