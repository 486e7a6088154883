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

    init(width: Int) {
        state = Mutex(State(free: max(1, width)))
    }

    /// Runs `body` once a place is free.
    func run<T>(_ body: () async throws -> T) async throws -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let entered = state.withLock { state -> Bool in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if entered { continuation.resume() }
        }
    }

    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
