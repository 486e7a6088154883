import NIOCore

/// Runs a call's task on its connection's event loop instead of Swift's
/// cooperative pool: a cheap handler (Health/Check, a cached read) then costs
/// no thread hop at all, and a handler that awaits storage or hashing resumes
/// on the loop that writes its response. Handlers must not block (they never
/// do: SQLite and Argon2id run on their own threads).
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
