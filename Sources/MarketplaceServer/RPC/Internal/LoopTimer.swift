import NIOCore
import Synchronization

/// A sleep on an event loop's timer wheel that, when its task is cancelled,
/// cancels the loop's scheduled task at once. `Task.sleep` does not: its timer
/// stays queued, with its allocation, until the deadline, so a far deadline
/// would keep something of every call alive for as long.
final class LoopTimer: Sendable {
    private struct State: Sendable {
        var continuation: CheckedContinuation<Bool, Never>?
        var scheduled: Scheduled<Void>?
        var result: Bool?
    }

    private let state = Mutex(State())

    /// Waits until `deadline`; true when it passed, false when the task was
    /// cancelled first (the loop's timer is then gone).
    static func sleep(until deadline: ContinuousClock.Instant, on loop: any EventLoop) async -> Bool {
        let timer = LoopTimer()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let scheduled = loop.scheduleTask(in: .nanoseconds(nanoseconds(until: deadline))) { timer.finish(fired: true) }
                let early: Bool? = timer.state.withLock { state in
                    if let result = state.result { return result }
                    state.continuation = continuation
                    state.scheduled = scheduled
                    return nil
                }
                if let early {
                    if !early { scheduled.cancel() }
                    continuation.resume(returning: early)
                }
            }
        } onCancel: {
            timer.finish(fired: false)
        }
    }

    private func finish(fired: Bool) {
        let (continuation, scheduled): (CheckedContinuation<Bool, Never>?, Scheduled<Void>?) = state.withLock { state in
            guard state.result == nil else { return (nil, nil) }
            state.result = fired
            defer {
                state.continuation = nil
                state.scheduled = nil
            }
            return (state.continuation, state.scheduled)
        }
        if !fired { scheduled?.cancel() }
        continuation?.resume(returning: fired)
    }

    private static func nanoseconds(until deadline: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = ContinuousClock.now.duration(to: deadline).components
        guard seconds >= 0 else { return 0 }
        guard seconds < 1_000_000_000 else { return 1_000_000_000 * 1_000_000_000 }  // ~31 years
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
