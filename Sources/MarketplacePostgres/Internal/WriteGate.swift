import CoreMetrics
import Synchronization

/// At most `width` write transactions of a store at once; the rest wait in
/// arrival order. PostgreSQL's serializable isolation tracks what every
/// transaction read (index pages) until all transactions that overlapped it
/// have ended, so each extra concurrent writer raises every writer's chance
/// of a serialization failure and a run again; on this project's benchmark
/// machine, 2 writers per daemon gave ~1.5x the durable invites of 10 (see
/// BENCHMARKS.md). Reads are not gated.
final class WriteGate: Sendable {
    private struct State {
        var free: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>
    /// Write transactions waiting for a place (`marketplace_storage_writes_waiting`).
    private let waiting = Gauge(label: "marketplace_storage_writes_waiting")

    init(width: Int) {
        state = Mutex(State(free: max(1, width)))
        waiting.record(0)
    }

    /// Runs `body` once a place is free.
    func run<T>(_ body: () async throws -> T) async throws -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (entered, queued) = state.withLock { state -> (Bool, Int) in
                if state.free > 0 {
                    state.free -= 1
                    return (true, state.waiters.count)
                }
                state.waiters.append(continuation)
                return (false, state.waiters.count)
            }
            if entered { continuation.resume() } else { waiting.record(queued) }
        }
    }

    private func leave() {
        let (next, queued) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Int) in
            if state.waiters.isEmpty {
                state.free += 1
                return (nil, 0)
            }
            return (state.waiters.removeFirst(), state.waiters.count)
        }
        if let next {
            waiting.record(queued)
            next.resume()
        }
    }
}
