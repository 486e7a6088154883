#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore

/// When accept fails (EMFILE or ENFILE: out of descriptors; ENOBUFS, ENOMEM),
/// the listener stops accepting for a while instead of retrying at once: a
/// level-triggered listener with a full backlog otherwise spins at 100% CPU.
/// Each pause is logged (at most one line every ten seconds, with a count).
enum AcceptBackoff {
    static let pause: TimeAmount = .milliseconds(500)

    /// A handler for the listening channel's pipeline; call on its event loop.
    static func handler(logger: Logger) -> AcceptBackoffHandler {
        let reporter = Reporter(logger: logger)
        return AcceptBackoffHandler(shouldForwardIOErrorCaught: false) { error in
            reporter.report(error)
            return pause
        }
    }

    /// Rate-limits the log lines; used only on the listener's event loop.
    private final class Reporter {
        let logger: Logger
        var lastReport: NIODeadline?
        var suppressed = 0

        init(logger: Logger) {
            self.logger = logger
        }

        func report(_ error: IOError) {
            let now = NIODeadline.now()
            if let last = lastReport, now - last < .seconds(10) {
                suppressed += 1
                return
            }
            let hint = error.errnoCode == EMFILE || error.errnoCode == ENFILE
                ? " (out of file descriptors: raise RLIMIT_NOFILE or lower --max-connections)" : ""
            logger.warning(
                "accept failed: \(error)\(hint); pausing accepts for \(pause.nanoseconds / 1_000_000) ms",
                metadata: ["errno": "\(error.errnoCode)", "failures_since_last_report": "\(suppressed)"])
            lastReport = now
            suppressed = 0
        }
    }
}
