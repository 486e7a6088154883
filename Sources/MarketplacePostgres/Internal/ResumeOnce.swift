import Synchronization

/// Resumes a continuation with the first value given, ignoring the others.
final class ResumeOnce: Sendable {
    private let continuation: Mutex<CheckedContinuation<Bool, Never>?>

    init(_ continuation: CheckedContinuation<Bool, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ value: Bool) {
        continuation.withLock { slot -> CheckedContinuation<Bool, Never>? in
            defer { slot = nil }
            return slot
        }?.resume(returning: value)
    }
}
