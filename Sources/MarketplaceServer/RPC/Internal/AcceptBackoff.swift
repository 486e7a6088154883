#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore

/// When accept fails (EMFILE or ENFILE: out of descriptors; ENOBUFS, ENOMEM),
/// the listener stops accepting for a while instead of retrying at once: a
/// level-triggered listener with a full backlog otherwise spins at 100% CPU.
/// Each pause is logged (at most one line every ten seconds, with a count).
///
/// Not NIO's `AcceptBackoffHandler`: that one only withholds the *next*
/// `read()`. When the first accept of a read fails, NIO's server channel keeps
/// its read pending and stays registered for readability, so epoll wakes it
/// again at once and no `read()` ever comes to withhold: the loop spins in
/// accept4 for as long as descriptors are short (it only paused when an accept
/// had succeeded earlier in the same read). Turning `autoRead` off
/// unregisters the listener from epoll; turning it back on after the pause
/// registers it again.
enum AcceptBackoff {
    static let pause: TimeAmount = .milliseconds(500)

    /// A handler for the listening channel's pipeline; call on its event loop.
    static func handler(logger: Logger) -> Handler {
        Handler(reporter: Reporter(logger: logger))
    }

    /// Whether a failed accept means "out of a resource": worth a pause.
    static func isResourceShortage(_ error: IOError) -> Bool {
        switch error.errnoCode {
        case EMFILE, ENFILE, ENOBUFS, ENOMEM: return true
        default: return false
        }
    }

    /// Lives in the listener's pipeline; used only on its event loop.
    final class Handler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = any Channel
        typealias InboundOut = any Channel

        private let reporter: Reporter
        private var resume: Scheduled<Void>?

        fileprivate init(reporter: Reporter) {
            self.reporter = reporter
        }

        /// Whether accepting is paused right now (for tests).
        var isPaused: Bool { resume != nil }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            guard let ioError = error as? IOError else {
                context.fireErrorCaught(error)
                return
            }
            // Other accept errors (ECONNABORTED: the peer gave up while queued)
            // concern one connection; NIO keeps accepting, and so do we.
            guard AcceptBackoff.isResourceShortage(ioError) else { return }
            reporter.report(ioError)
            guard resume == nil, let options = context.channel.syncOptions else { return }
            // Off: the listener leaves epoll, so the full backlog cannot wake it.
            try? options.setOption(.autoRead, value: false)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            resume = context.eventLoop.scheduleTask(in: AcceptBackoff.pause) {
                let (handler, context) = bound.value
                handler.resume = nil
                guard context.channel.isActive else { return }
                // On again: registers for readability and accepts what waits.
                try? context.channel.syncOptions?.setOption(.autoRead, value: true)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            resume?.cancel()
            resume = nil
            context.fireChannelInactive()
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            if resume != nil {
                resume?.cancel()
                resume = nil
                try? context.channel.syncOptions?.setOption(.autoRead, value: true)
            }
        }
    }

    /// Rate-limits the log lines; used only on the listener's event loop.
    fileprivate final class Reporter {
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

@available(*, unavailable)
extension AcceptBackoff.Handler: Sendable {}
