import Logging
import MarketplaceDomain
import NIOCore
import PostgresNIO
import Synchronization

/// Answers "does the database answer now?" for `Health/Check`: `SELECT 1` on a
/// connection of its own (so a busy pool does not look like an outage),
/// reconnected when lost, bounded by the health timeout. One probe runs at a
/// time and its answer is reused for a second, so health checks cannot load
/// the database.
final class HealthProbe: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var running: Task<Bool, Never>?
        var answer: (available: Bool, at: ContinuousClock.Instant)?
        var closed = false
    }

    private static let reuse: Duration = .seconds(1)
    private let state = Mutex(State())
    private let configuration: PostgresStoreConfiguration
    private let logger: Logger

    init(configuration: PostgresStoreConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func isAvailable() async -> Bool {
        let now = ContinuousClock.now
        let task = state.withLock { state -> Task<Bool, Never>? in
            if state.closed { return nil }
            if let answer = state.answer, now - answer.at < Self.reuse { return nil }
            if let running = state.running { return running }
            let task = Task { await self.probe() }
            state.running = task
            return task
        }
        guard let task else { return state.withLock { !$0.closed && ($0.answer?.available ?? false) } }
        return await task.value
    }

    private func probe() async -> Bool {
        // The query is not cancellable: whichever of answer and timeout
        // comes first decides, the other is ignored.
        let timeout = configuration.healthTimeout
        let available = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let once = ResumeOnce(continuation)
            Task { once.resume(await self.selectOne()) }
            Task {
                try? await Task.sleep(for: timeout)
                once.resume(false)
            }
        }
        let stale = state.withLock { state -> PostgresConnection? in
            state.answer = (available, ContinuousClock.now)
            state.running = nil
            if !available, let connection = state.connection {
                state.connection = nil
                return connection
            }
            return nil
        }
        if let stale { ConnectionPool.closeInBackground(stale) }
        return available
    }

    private func selectOne() async -> Bool {
        do {
            var connection = state.withLock { $0.connection }
            if connection == nil || connection!.isClosed {
                let fresh = try await ConnectionPool.connect(configuration, id: -1, logger: logger)
                let keep = state.withLock { state -> Bool in
                    guard !state.closed else { return false }
                    state.connection = fresh
                    return true
                }
                guard keep else {
                    ConnectionPool.closeInBackground(fresh)
                    return false
                }
                connection = fresh
            }
            _ = try await PostgresStore.rows(connection!, "SELECT 1", logger: logger)
            return true
        } catch {
            logger.debug("database health probe failed: \(PostgresErrors.describe(error))")
            return false
        }
    }

    func close() async {
        let connection = state.withLock { state -> PostgresConnection? in
            state.closed = true
            defer { state.connection = nil }
            return state.connection
        }
        try? await connection?.close()
    }
}
