/// The calls running on one connection, so that its close, or a call's
/// deadline, can cancel them. A slot per call, reused once the call ends: no
/// hashing per call. A key names its slot and its call, so a stale key never
/// reaches a later call in the same slot. Used on the connection's loop only.
struct CallSlots {
    /// Names one call's place.
    struct Key: Sendable {
        fileprivate let slot: Int
        fileprivate let call: Int
    }

    private var slots: [(call: Int, task: Task<Void, Never>?)?] = []
    private var freeSlots: [Int] = []
    private var lastCall = 0

    /// Calls holding a place.
    private(set) var count = 0

    /// A place for a new call; `record` its task once made.
    mutating func reserve() -> Key {
        lastCall &+= 1
        count += 1
        if let slot = freeSlots.popLast() {
            slots[slot] = (lastCall, nil)
            return Key(slot: slot, call: lastCall)
        }
        slots.append((lastCall, nil))
        return Key(slot: slots.count - 1, call: lastCall)
    }

    mutating func record(_ task: Task<Void, Never>, for key: Key) {
        guard let entry = slots[key.slot], entry.call == key.call else { return }
        slots[key.slot] = (key.call, task)
    }

    /// The call's task, while it holds its place.
    func task(for key: Key) -> Task<Void, Never>? {
        guard key.slot < slots.count, let entry = slots[key.slot], entry.call == key.call else { return nil }
        return entry.task
    }

    /// Frees the call's place.
    mutating func remove(_ key: Key) {
        guard key.slot < slots.count, let entry = slots[key.slot], entry.call == key.call else { return }
        slots[key.slot] = nil
        freeSlots.append(key.slot)
        count -= 1
    }

    /// Cancels every call holding a place.
    func cancelAll() {
        for entry in slots { entry?.task?.cancel() }
    }
}
