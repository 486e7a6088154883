import Foundation
import GRDB
import MarketplaceDomain

/// The connections that run ``SQLiteStore/read(_:)`` bodies: a few read-only
/// connections, each owned by its own thread, taking bodies from one queue.
///
/// A read costs one hand-off to a reader thread (a thread already running
/// takes the next body without being woken) and one back to the caller's
/// executor. GRDB's `DatabasePool.read` costs three (its pool's semaphore
/// queue, then the reader's queue, then the caller's) plus a pool checkout,
/// and its `BEGIN`/`COMMIT` are parsed on every read; here they are
/// statements prepared once per connection. Each body runs in a deferred
/// read transaction, so it sees one consistent snapshot that includes every
/// write acknowledged before the read was asked for.
///
/// Reads by key queued together share one transaction: a reader takes up to
/// ``pointBatchLimit`` of them at once (its share of those queued, so the
/// other readers get theirs) and runs them between one `BEGIN` and one
/// `COMMIT`. Each was queued before the batch was taken, so before the
/// snapshot starts: still every write acknowledged before it was asked for.
/// Pages always have a transaction of their own.
///
/// Two lanes: short reads (one row and what hangs off it) go before pages of
/// a listing, which may walk thousands of index entries. With a reader per
/// CPU, two pages in progress would otherwise hold every reader while point
/// reads queue behind them. A waiting page is passed over by at most
/// ``pagePassLimit`` short reads, so pages cannot starve.
///
/// The threads never run on a caller's thread: an event loop that asks for a
/// read only appends to the queue.
final class SQLiteReaders: @unchecked Sendable {  // `threads` never changes; `queue` guards itself
    /// A body, given its connection with a read transaction open (or the
    /// error that prevented opening it); never throws (it keeps its outcome
    /// for its caller).
    typealias Job = @Sendable (Result<Connection, any Error>) -> Void

    /// A reader's connection as its bodies see it: GRDB's `Database`, and
    /// the statements of the hottest read, prepared once (on first use).
    final class Connection {
        let db: Database
        private var accountUserStatements: AccountUserStatements?

        fileprivate init(_ db: Database) {
            self.db = db
        }

        /// ``SQLiteStore/readAccountUser(id:)``'s read.
        func accountUser(id: String) throws -> AccountUser? {
            if let accountUserStatements { return try accountUserStatements.accountUser(id: id) }
            let prepared = try AccountUserStatements(db)
            accountUserStatements = prepared
            return try prepared.accountUser(id: id)
        }

        /// Finalizes the prepared statements (before the connection closes).
        fileprivate func finalize() {
            accountUserStatements?.finalize()
            accountUserStatements = nil
        }
    }

    /// Which lane a body waits in.
    enum Lane: Sendable {
        /// A read of a few rows by key: taken first.
        case point
        /// A page of a listing (many index entries, many rows).
        case page
    }

    /// How many short reads may go before a page that waits, at most, before
    /// the next reader takes the page.
    static let pagePassLimit = 16

    /// The most reads by key one read transaction serves (a few hundred
    /// microseconds of reads: the snapshot never gets old, the checkpoint is
    /// never held up for long).
    static let pointBatchLimit = 16

    /// Bodies in arrival order, taken from the front.
    private struct LaneJobs {
        private var jobs: [Job] = []
        private var head = 0

        var isEmpty: Bool { head == jobs.count }

        var count: Int { jobs.count - head }

        mutating func append(_ job: @escaping Job) {
            jobs.append(job)
        }

        mutating func popFirst() -> Job? {
            guard head < jobs.count else { return nil }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 {
                jobs.removeFirst(head)
                head = 0
            }
            return job
        }
    }

    private final class Queue: @unchecked Sendable {
        // Guarded by `condition`.
        let condition = NSCondition()
        var points = LaneJobs()
        var pages = LaneJobs()
        /// Short reads taken while a page waited, since a page was last taken.
        var pagePassed = 0
        var idle = 0
        var closed = false
        var running = 0
        /// Released by its thread when it stops, so that every reader has
        /// closed once ``close()`` returns.
        var connections: [DatabaseQueue?] = []
    }

    private let queue = Queue()
    private let threads: [Thread]

    /// Opens `count` read-only connections on the database at `path` and
    /// starts their threads.
    init(path: String, configuration: Configuration, count: Int) throws {
        var configuration = configuration
        configuration.readonly = true
        let connections = try (0..<max(1, count)).map { _ in try DatabaseQueue(path: path, configuration: configuration) }
        let queue = self.queue
        queue.running = connections.count
        queue.connections = connections
        threads = connections.indices.map { index in
            let thread = Thread { SQLiteReaders.serve(queue, index) }
            thread.name = "sqlite-reader-\(index)"
            return thread
        }
        for thread in threads { thread.start() }
    }

    deinit {
        close()
    }

    /// Queues `job` in `lane`; it runs on a reader thread inside a read
    /// transaction. Returns false when the readers are closed.
    func submit(_ lane: Lane, _ job: @escaping Job) -> Bool {
        let queue = self.queue
        queue.condition.lock()
        defer { queue.condition.unlock() }
        guard !queue.closed else { return false }
        switch lane {
        case .point: queue.points.append(job)
        case .page: queue.pages.append(job)
        }
        if queue.idle > 0 { queue.condition.signal() }
        return true
    }

    /// Lets the threads finish the queued bodies, then close their
    /// connections; waits (up to 5 s) for them unless called on one of them.
    func close() {
        let queue = self.queue
        queue.condition.lock()
        queue.closed = true
        queue.condition.broadcast()
        if threads.contains(where: { $0 === Thread.current }) {
            queue.condition.unlock()
            return
        }
        let deadline = Date(timeIntervalSinceNow: 5)
        while queue.running > 0, queue.condition.wait(until: deadline) {}
        queue.condition.unlock()
    }

    private static func serve(_ queue: Queue, _ index: Int) {
        serveJobs(queue, index)
        queue.condition.lock()
        queue.connections[index] = nil  // the last reference: the connection closes
        queue.running -= 1
        queue.condition.broadcast()
        queue.condition.unlock()
    }

    /// Runs queued bodies until the readers are closed and the queue is empty,
    /// all inside one `inDatabase` of the thread's connection (no other
    /// thread uses it): entering GRDB's queue per body cost a
    /// `DispatchQueue.sync` and three allocations per read.
    private static func serveJobs(_ queue: Queue, _ index: Int) {
        queue.condition.lock()
        let connection = queue.connections[index]
        queue.condition.unlock()
        connection?.inDatabase { db in
            let reader = Connection(db)
            defer { reader.finalize() }
            queue.condition.lock()
            defer { queue.condition.unlock() }
            var batch: [Job] = []
            batch.reserveCapacity(pointBatchLimit)
            while true {
                if let (job, lane) = next(queue) {
                    batch.append(job)
                    if lane == .point { morePoints(queue, into: &batch) }
                    queue.condition.unlock()
                    run(batch, reader)
                    batch.removeAll(keepingCapacity: true)
                    queue.condition.lock()
                } else if queue.closed {
                    return
                } else {
                    queue.idle += 1
                    queue.condition.wait()
                    queue.idle -= 1
                }
            }
        }
    }

    /// The body to run next and its lane: short reads first, unless a page
    /// has waited while ``pagePassLimit`` of them went ahead. Called with the
    /// lock held.
    private static func next(_ queue: Queue) -> (Job, Lane)? {
        if queue.pages.isEmpty { return queue.points.popFirst().map { ($0, .point) } }
        if queue.pagePassed < pagePassLimit, let point = queue.points.popFirst() {
            queue.pagePassed += 1
            return (point, .point)
        }
        queue.pagePassed = 0
        return queue.pages.popFirst().map { ($0, .page) }
    }

    /// Adds to `batch` (one read by key so far) the reads by key that share
    /// its transaction: this reader's share of those queued (the other
    /// readers take theirs), at most ``pointBatchLimit`` in all, and none
    /// past the point where a waiting page is due. Called with the lock held.
    private static func morePoints(_ queue: Queue, into batch: inout [Job]) {
        // One connection per reader thread (a closed one stays counted: its
        // place in the array is kept).
        let readers = queue.connections.count
        let share = (batch.count + queue.points.count + readers - 1) / readers
        while batch.count < min(share, pointBatchLimit) {
            if !queue.pages.isEmpty {
                guard queue.pagePassed < pagePassLimit else { return }
                queue.pagePassed += 1
            }
            guard let point = queue.points.popFirst() else { return }
            batch.append(point)
        }
    }

    /// Runs the bodies of `batch` in order between one `BEGIN` and one
    /// `COMMIT` (a `ROLLBACK` if the commit fails). Should SQLite end the
    /// transaction on an error inside a body, the next body begins another.
    private static func run(_ batch: [Job], _ connection: Connection) {
        let db = connection.db
        for job in batch {
            if !db.isInsideTransaction {
                do {
                    try db.cachedStatement(sql: "BEGIN DEFERRED").execute()
                } catch {
                    job(.failure(error))
                    continue
                }
            }
            job(.success(connection))
        }
        guard db.isInsideTransaction else { return }
        do {
            try db.cachedStatement(sql: "COMMIT").execute()
        } catch {
            try? db.execute(sql: "ROLLBACK")
        }
    }
}
