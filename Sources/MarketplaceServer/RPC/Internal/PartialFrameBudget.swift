import Synchronization

/// Bytes held in partly received frames, across every connection, against one
/// budget: 200 peers each stopping just short of completing a 4 MiB frame
/// would otherwise pin 800 MiB. A connection whose partial frame would take
/// the total past the limit is closed.
final class PartialFrameBudget: Sendable {
    let limit: Int
    private let held = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    func acquire(_ bytes: Int) -> Bool {
        let total = held.wrappingAdd(bytes, ordering: .relaxed).newValue
        guard total <= limit else {
            held.wrappingSubtract(bytes, ordering: .relaxed)
            return false
        }
        return true
    }

    func release(_ bytes: Int) {
        held.wrappingSubtract(bytes, ordering: .relaxed)
    }

    /// Bytes held right now.
    var bytes: Int { held.load(ordering: .relaxed) }
}
