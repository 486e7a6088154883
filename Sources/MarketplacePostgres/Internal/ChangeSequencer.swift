import Logging
import PostgresNIO
import Synchronization

/// Numbers the change feed's committed rows (the schema's
/// `changes_sequence()`, see ``PostgresSchema``) in the background, one run
/// at a time per store, on a pooled connection in autocommit (READ COMMITTED).
///
/// - ``request()`` after every write that committed: runs requested while a
///   run is under way are folded into one more run, so a burst of writes
///   costs a few runs, not one each.
/// - ``numberCommitted()`` before reading the feed: returns after a run that
///   started after the call, so every change committed before the call is
///   numbered (a committed change is in the feed).
/// - A run every ``sweepInterval`` numbers rows whose writer stopped before
///   requesting a run (a daemon killed just after a commit).
///
/// Runs of several daemons serialise on the schema's advisory lock; each is
/// one short transaction that numbers everything pending.
final class ChangeSequencer: Sendable {
    static let sweepInterval: Duration = .seconds(1)

    private struct State {
        var running = false
        var requested = false
        var stopped = false
        /// The last run failed (logged once until a run succeeds again).
        var failing = false
        var waiters: [CheckedContinuation<Void, any Error>] = []
    }

    private let pool: ConnectionPool
    private let logger: Logger
    private let state = Mutex(State())
    private let sweeper = Mutex<Task<Void, Never>?>(nil)

    init(pool: ConnectionPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    /// Starts the periodic sweep.
    func start() {
        sweeper.withLock { task in
            guard task == nil else { return }
            task = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.sweepInterval)
                    self?.request()
                }
            }
        }
    }

    /// Asks for a run soon; returns at once.
    func request() {
        if startIfIdle({ _ in }) { launch() }
    }

    /// Returns once every change committed before the call is numbered.
    /// Throws what the run threw (the database is unreachable...).
    func numberCommitted() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            var refused = false
            let launchNow = startIfIdle { state in
                if state.stopped { refused = true } else { state.waiters.append(continuation) }
            }
            if refused {
                continuation.resume(throwing: PostgresErrors.storeClosed)
            } else if launchNow {
                launch()
            }
        }
    }

    /// Stops the sweep; later calls of ``numberCommitted()`` fail.
    func stop() {
        sweeper.withLock { $0?.cancel(); $0 = nil }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.stopped = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(throwing: PostgresErrors.storeClosed) }
    }

    /// Marks a run requested (after `update`); true when the caller must
    /// launch the loop (none is running).
    private func startIfIdle(_ update: (inout State) -> Void) -> Bool {
        state.withLock { state in
            update(&state)
            guard !state.stopped else { return false }
            state.requested = true
            guard !state.running else { return false }
            state.running = true
            return true
        }
    }

    private func launch() {
        Task { await self.loop() }
    }

    /// Runs while runs are requested. The waiters of a run are those
    /// registered before it started.
    private func loop() async {
        while true {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>]? in
                guard state.requested, !state.stopped else {
                    state.running = false
                    return nil
                }
                state.requested = false
                defer { state.waiters.removeAll() }
                return state.waiters
            }
            guard let waiters else { return }
            let outcome: Result<Void, any Error>
            do {
                try await runUntilDone()
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            // Logged when runs start or stop failing, not every second of an outage.
            let failed: Bool
            if case .failure = outcome { failed = true } else { failed = false }
            let changed = state.withLock { state -> Bool in
                defer { state.failing = failed }
                return state.failing != failed
            }
            if changed, case .failure(let error) = outcome {
                logger.warning("cannot number the change feed's new rows; retrying after the next write and every \(Self.sweepInterval): \(PostgresErrors.describe(error))")
            } else if changed {
                logger.notice("numbering the change feed's new rows again")
            }
            for waiter in waiters { waiter.resume(with: outcome) }
        }
    }

    /// `changes_sequence()` until it numbers less than a full batch.
    private func runUntilDone() async throws {
        let lease = try await pool.lease()
        do {
            while true {
                let rows = try await PostgresStore.rows(lease.connection, "SELECT changes_sequence()", logger: logger)
                let numbered = try rows.first?.decode(Int64.self) ?? 0
                if numbered < PostgresSchema.sequenceBatch { break }
            }
            pool.release(lease)
        } catch {
            pool.release(lease, discard: PostgresErrors.sqlState(error) == nil)
            throw error
        }
    }
}
