#if canImport(Glibc)
import Glibc
#endif
import CoreMetrics
import Dispatch
import Foundation
import Synchronization

/// A fixed set of dedicated threads for blocking, CPU-heavy work (Argon2id),
/// so that it never runs on Swift's cooperative pool or on an event loop.
/// Concurrency is bounded by the number of threads; the queue by `maxQueued`.
final class BlockingPool: Sendable {
    private typealias Job = @Sendable () -> Void

    private struct State {
        var jobs: [Job] = []
        var head = 0
        var stopped = false

        mutating func pop() -> Job? {
            guard head < jobs.count else { return nil }
            let job = jobs[head]
            head += 1
            if head > 64 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            return job
        }

        var count: Int { jobs.count - head }
    }

    /// What the threads share with the pool (a class, since `Mutex` cannot be copied).
    private final class Shared: Sendable {
        let state = Mutex(State())
        let available = DispatchSemaphore(value: 0)
    }

    private let shared = Shared()
    /// Jobs waiting for a thread (`marketplace_password_hashing_queue_depth`).
    private let depth = Gauge(label: "marketplace_password_hashing_queue_depth")
    private let threadCount: Int
    private let maxQueued: Int

    /// Starts `threads` dedicated threads named `name`.
    init(threads: Int, maxQueued: Int = 1024, name: String) {
        threadCount = max(1, threads)
        self.maxQueued = maxQueued
        for index in 0..<threadCount {
            let thread = Thread { [shared, depth] in
                Self.lowerPriorityOfCurrentThread()
                while true {
                    shared.available.wait()
                    let (next, waiting): (Job??, Int) = shared.state.withLock { s in
                        if let job = s.pop() { return (.some(job), s.count) }
                        return (s.stopped ? .some(nil) : nil, s.count)
                    }
                    depth.record(waiting)
                    switch next {
                    case .some(.some(let job)): job()
                    case .some(.none): return
                    case .none: continue
                    }
                }
            }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Hashing yields the CPU to everything else in the process: with nice 10
    /// the event loops and storage threads win a contended CPU about 9 times
    /// in 10, so cheap calls keep their latency while sign-ins saturate the
    /// pool; on an idle CPU hashing runs at full speed all the same.
    private static func lowerPriorityOfCurrentThread() {
        #if os(Linux)
        // On Linux the nice value is per thread, and `who` 0 is the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }

    deinit {
        shared.state.withLock { $0.stopped = true }
        for _ in 0..<threadCount { shared.available.signal() }
    }

    /// Runs `work` on one of the pool's threads and returns its result.
    ///
    /// - Throws: ``DomainError/Kind/resourceExhausted`` when `maxQueued` jobs
    ///   already wait; otherwise whatever `work` throws.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = shared.state.withLock { s -> Int? in
                guard !s.stopped, s.count < maxQueued else { return nil }
                s.jobs.append { continuation.resume(with: Result { try work() }) }
                return s.count
            }
            if let waiting = accepted {
                depth.record(waiting)
                shared.available.signal()
            } else {
                continuation.resume(throwing: DomainError(.resourceExhausted, "too many password operations in progress; retry shortly"))
            }
        }
    }
}
