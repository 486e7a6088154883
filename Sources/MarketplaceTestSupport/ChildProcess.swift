import Foundation
import Synchronization

/// A program started with posix_spawn and watched by its pid: what tests used
/// Foundation's `Process` for, without `Process.run()`, which crashes now and
/// then on Linux (see ``runProcess(_:_:environment:currentDirectory:stdin:)``).
public final class ChildProcess: Sendable {
    /// The child's process id.
    public let pid: pid_t
    /// Its raw wait status once reaped.
    private let reaped = Mutex<Int32?>(nil)

    /// Starts `argv` (an absolute path first) with input from `stdin`, output
    /// and errors appended to `log`, and `environment` (nil: the test's own).
    public init(_ argv: [String], log: String, stdin: String = "/dev/null", environment: [String: String]? = nil) throws {
        pid = try spawn(argv, stdin: stdin, stdout: log, stderr: nil, environment: environment, currentDirectory: nil, append: true)
    }

    /// A child a failed test left running is killed and reaped, never leaked.
    deinit {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        let pid = self.pid
        Thread { _ = blockingWaitStatus(of: pid) }.start()
    }

    /// Whether it has not exited yet (reaps it when it has).
    public var isRunning: Bool { poll() == nil }

    /// Blocks until it exits (polling every 10 ms, so that `isRunning` stays
    /// answerable from other threads).
    public func waitUntilExit() {
        while poll() == nil { usleep(10_000) }
    }

    /// As Foundation's `terminationStatus`: the exit code, or the number of
    /// the signal that ended it; -1 while it runs.
    public var terminationStatus: Int32 {
        guard let status = poll() else { return -1 }
        return MarketplaceTestSupport.terminationStatus(status)
    }

    /// The wait status recorded for a child reaped elsewhere: exit code 255.
    static let unknownStatus: Int32 = 255 << 8

    private func poll() -> Int32? {
        reaped.withLock { reaped in
            if let reaped { return reaped }
            var status: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(pid, &status, WNOHANG) } while result < 0 && errno == EINTR
            if result < 0 && errno == ECHILD {
                // Reaped by someone else (never by this class twice: the status
                // is kept): it has exited, with a status nobody can know now.
                reaped = Self.unknownStatus
                return Self.unknownStatus
            }
            guard result == pid else { return nil }
            reaped = status
            return status
        }
    }
}
