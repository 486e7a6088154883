import CoreMetrics
import GRDB
import Synchronization

/// Group commit: write bodies that arrive while a transaction is being written
/// share the next transaction, and so its single fsync.
///
/// Every body runs in its own savepoint inside the shared transaction, so it
/// still commits or rolls back as a unit: a body that throws is rolled back to
/// its savepoint and only its caller sees the error; the others go on. Callers
/// are answered only after the shared `COMMIT` returned (with
/// `synchronous=FULL`, after the fsync), so every acknowledged write is
/// durable. If the commit fails, every body of the batch gets the error and
/// none is committed; a failure that aborts the whole transaction (SQLite
/// rolls back by itself on some disk-full and I/O errors) ends the batch the
/// same way. Bodies of one batch see each other's writes in submission order,
/// exactly as if their transactions had run one after another.
///
/// A caller alone pays only a savepoint more: its transaction starts at once.
final class GroupCommitWriter: Sendable {
    /// What answers a body's caller once the commit's outcome is known
    /// (nil: committed).
    typealias Answer = @Sendable ((any Error)?) -> Void

    struct Job: Sendable {
        /// Runs the body in its savepoint; never throws (the outcome is kept
        /// for the answer).
        let run: @Sendable (Database) -> Answer
        /// Answers a body that never ran because its batch failed first.
        let abandon: @Sendable (any Error) -> Void
    }

    /// Most bodies in one transaction (bounds the latency a batch adds).
    static let maxBatch = 256

    private struct State {
        var queue: [Job] = []
        var running = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())
    /// Bodies per transaction (`marketplace_storage_group_commit_batch_size`).
    private let batchSizes = Recorder(label: "marketplace_storage_group_commit_batch_size")

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Queues a body; starts a transaction now unless one is being written.
    func submit(_ job: Job) {
        let start = state.withLock { s -> Bool in
            s.queue.append(job)
            if s.running { return false }
            s.running = true
            return true
        }
        if start { writeNextBatch() }
    }

    private func writeNextBatch() {
        let batch = state.withLock { s -> [Job] in
            let n = min(s.queue.count, Self.maxBatch)
            let batch = Array(s.queue.prefix(n))
            s.queue.removeFirst(n)
            if batch.isEmpty { s.running = false }
            return batch
        }
        guard !batch.isEmpty else { return }
        batchSizes.record(batch.count)
        pool.asyncWriteWithoutTransaction { db in
            var answers: [Answer] = []
            answers.reserveCapacity(batch.count)
            var failure: (any Error)?
            do {
                try db.inTransaction(.immediate) {
                    for job in batch {
                        answers.append(job.run(db))
                        guard db.isInsideTransaction else {
                            throw DatabaseError(resultCode: .SQLITE_ABORT, message: "transaction rolled back by SQLite")
                        }
                    }
                    return .commit
                }
            } catch {
                failure = error
            }
            for answer in answers { answer(failure) }
            for job in batch.dropFirst(answers.count) {
                job.abandon(failure ?? DatabaseError(resultCode: .SQLITE_ABORT, message: "transaction aborted"))
            }
            self.writeNextBatch()
        }
    }
}
