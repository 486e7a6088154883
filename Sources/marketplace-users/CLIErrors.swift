import ArgumentParser
import Foundation
import MarketplaceClient

/// How the CLI reports a failed call: one line on stderr and an exit code per
/// kind of failure.
enum CLIErrors {
    /// Exit codes, documented in `--help` and the README.
    enum ExitStatus {
        static let usage: Int32 = 64          // bad flags or arguments (also ArgumentParser's)
        static let notFound: Int32 = 3        // NOT_FOUND
        static let refused: Int32 = 4         // PERMISSION_DENIED, UNAUTHENTICATED
        static let conflict: Int32 = 5        // ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED
        static let invalid: Int32 = 6         // INVALID_ARGUMENT, OUT_OF_RANGE
        static let unavailable: Int32 = 7     // socket missing, server down, UNAVAILABLE, DEADLINE_EXCEEDED
        static let failure: Int32 = 1         // anything else (INTERNAL, ...)
    }

    static func exitStatus(for code: StatusCode) -> Int32 {
        switch code {
        case .notFound: ExitStatus.notFound
        case .permissionDenied, .unauthenticated: ExitStatus.refused
        case .alreadyExists, .failedPrecondition, .aborted: ExitStatus.conflict
        case .invalidArgument, .outOfRange: ExitStatus.invalid
        case .unavailable, .deadlineExceeded, .resourceExhausted: ExitStatus.unavailable
        default: ExitStatus.failure
        }
    }

    /// Runs `body`; an `RPCError` becomes one line on stderr and its exit code.
    static func reporting(socket: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as RPCError {
            var line = "marketplace-users: \(error.message)"
            if error.code == .unavailable, !error.message.contains(socket) {
                line += " (socket \(socket))"
            }
            FileHandle.standardError.write(Data((line + " [\(error.code.name)]\n").utf8))
            throw ExitCode(exitStatus(for: error.code))
        }
    }
}
