import NIOCore

/// Why the socket could not be opened: the `cause` of the `UNAVAILABLE`
/// `RPCError` a call meets then, so that a tool can give the right advice
/// (start the server; ask for access; use a shorter path).
public struct ConnectError: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// No socket at the path: the server is not running there.
        case noSocket
        /// A socket file nobody listens on (ECONNREFUSED).
        case refused
        /// This Unix user may not open the socket (EACCES on it or a directory).
        case permissionDenied
        /// The path is longer than a Unix socket address allows (107 bytes).
        case pathTooLong
        case other
    }

    public let reason: Reason
    /// The system's error, e.g. NIO's `IOError`.
    public let underlying: any Error

    public var description: String { "\(reason): \(underlying)" }

    init(_ error: any Error) {
        underlying = error
        if let io = error as? IOError {
            switch io.errnoCode {
            case 2: reason = .noSocket  // ENOENT
            case 111: reason = .refused  // ECONNREFUSED
            case 13: reason = .permissionDenied  // EACCES
            default: reason = .other
            }
        } else if case SocketAddressError.unixDomainSocketPathTooLong = error {
            reason = .pathTooLong
        } else {
            reason = .other
        }
    }

    /// The phrase put in the `UNAVAILABLE` message.
    var phrase: String {
        switch reason {
        case .noSocket: "no such socket (is the server running?)"
        case .refused: "connection refused (is the server running?)"
        case .permissionDenied: "permission denied: this Unix user may not open the socket"
        case .pathTooLong: "the socket path is too long for a Unix socket (at most 107 bytes)"
        case .other: "\(underlying)"
        }
    }
}
