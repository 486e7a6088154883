import ArgumentParser
import Foundation
import MarketplaceClient

/// A failure found by the CLI itself (not the server): one line and an exit code.
struct CLIFailure: Error {
    let message: String
    let exitStatus: Int32

    init(_ message: String, exitStatus: Int32) {
        self.message = message
        self.exitStatus = exitStatus
    }
}

/// How the CLI reports a failed call: one line on stderr that says what went
/// wrong and what to do, and an exit code per kind of failure.
enum CLIErrors {
    /// Exit codes, documented in `--help`, docs/cli.md and the README.
    enum ExitStatus {
        static let usage: Int32 = 64          // bad flags or arguments (also ArgumentParser's)
        static let notFound: Int32 = 3        // NOT_FOUND
        static let refused: Int32 = 4         // PERMISSION_DENIED, UNAUTHENTICATED
        static let conflict: Int32 = 5        // ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED
        static let invalid: Int32 = 6         // INVALID_ARGUMENT, OUT_OF_RANGE
        static let unavailable: Int32 = 7     // socket missing, server down, UNAVAILABLE, DEADLINE_EXCEEDED
        static let throttled: Int32 = 8       // RESOURCE_EXHAUSTED: too many attempts, wait and retry
        static let failure: Int32 = 1         // anything else (INTERNAL, ...)
    }

    /// The exit-code table as shown in the root command's help.
    static let helpText = """
        Exit codes:
          0   success
          1   internal or unexpected error
          3   not found
          4   refused: permission denied or not authenticated
          5   conflict: already exists, or the state does not allow it
          6   invalid argument (the server rejected a value)
          7   service unavailable: socket missing, server down, or timed out
          8   throttled: too many attempts (e.g. sign-in); wait as the message says
          64  usage error: bad flags, or a confirmation needed (--yes)
        """

    static func exitStatus(for code: StatusCode) -> Int32 {
        switch code {
        case .notFound: ExitStatus.notFound
        case .permissionDenied, .unauthenticated: ExitStatus.refused
        case .alreadyExists, .failedPrecondition, .aborted: ExitStatus.conflict
        case .invalidArgument, .outOfRange: ExitStatus.invalid
        case .unavailable, .deadlineExceeded: ExitStatus.unavailable
        case .resourceExhausted: ExitStatus.throttled
        default: ExitStatus.failure
        }
    }

    /// What to do about an error, given the command that met it; nil when the
    /// server's message says enough.
    typealias Hint = @Sendable (RPCError) -> String?

    /// Runs `body`; an `RPCError` or `CLIFailure` becomes one line on stderr
    /// and its exit code.
    static func reporting(socket: String, hint: Hint? = nil, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as RPCError {
            Output.note(line(for: error, socket: socket, hint: hint?(error)))
            throw ExitCode(exitStatus(for: error.code))
        } catch let failure as CLIFailure {
            Output.note("marketplace-users: \(failure.message)")
            throw ExitCode(failure.exitStatus)
        }
    }

    /// The one line for an RPC error: the server's message, what to do, and the code.
    /// One hint per situation: advice the message already gives is not repeated.
    static func line(for error: RPCError, socket: String, hint: String?) -> String {
        var line = "marketplace-users: \(error.message)"
        var advice = hint
        switch error.code {
        case .unavailable:
            if !error.message.contains(socket) { line += " (socket \(socket))" }
            switch (error.cause as? ConnectError)?.reason {
            case .permissionDenied?:
                advice = "your Unix user may not open \(socket): ask for access to it (its group or mode), or pass another --socket"
            case .pathTooLong?:
                advice = "use a shorter --socket path (at most 107 bytes; a relative path counts from the working directory)"
            default:
                advice = advice ?? "start the server (marketplace-usersd --socket \(socket)) or pass --socket / MARKETPLACE_USERS_SOCKET"
            }
        case .deadlineExceeded:
            advice = advice ?? "the server at \(socket) did not answer in time; retry, or raise --timeout"
        case .unimplemented:
            advice = advice ?? "the server at \(socket) does not offer this operation; is it an older version?"
        case .permissionDenied, .unauthenticated:
            if let identity = SessionFile.actingAs {
                advice = advice ?? "you acted as \(identity) (saved sign-in); pass --no-session to act as your Unix user, or sign out"
            } else if error.code == .permissionDenied {
                advice = advice ?? "operator commands need a Unix user the server accepts as an operator"
            }
        default:
            break
        }
        if let advice, !repeats(advice, in: error.message) { line += "; \(advice)" }
        return line + " [\(error.code.name)]"
    }

    /// Whether `message` already gives `advice`: same text, or the same first
    /// words ("ask the account administrator...", "try again in ...").
    static func repeats(_ advice: String, in message: String) -> Bool {
        let message = message.lowercased(), advice = advice.lowercased()
        if message.contains(advice) { return true }
        let words = advice.split(separator: " ").prefix(4).joined(separator: " ")
        if words.count >= 12, message.contains(words) { return true }
        return ["try again", "retry"].contains { message.contains($0) && advice.contains($0) }
            || (message.contains("wait") && advice.hasPrefix("wait"))
    }

    /// Hints shared by commands about one account user.
    static func accountUserHint(_ id: String) -> Hint {
        { error in
            let message = error.message
            switch error.code {
            case .notFound where message.contains("group"):
                return "list the account's groups with `marketplace-users groups list --account ACC-...`"
            case .notFound:
                return "check the id with `marketplace-users users list --account ACC-...`"
            case .failedPrecondition where message.contains("expired"):
                return "use `marketplace-users invitations renew \(id)`"
            case .failedPrecondition where message.contains("still valid"):
                return "use `marketplace-users invitations resend \(id)` or `marketplace-users invitations link \(id)`"
            case .failedPrecondition where message.contains("DISABLED"):
                return "the user was removed; invite them again with `marketplace-users users invite`"
            default:
                return nil
            }
        }
    }

    /// Hint for commands that take an account id.
    static let accountHint: Hint = { error in
        error.code == .notFound ? "list accounts with `marketplace-users accounts list`" : nil
    }
}
