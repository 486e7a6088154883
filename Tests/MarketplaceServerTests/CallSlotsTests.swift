@testable import MarketplaceServer
import Testing

/// The per-connection table of running calls (pure logic): places are
/// reused, and a key whose call ended never reaches the call that took its
/// place (a late deadline must not cancel someone else's call).
@Suite("CallSlots: the running calls of one connection")
struct CallSlotsTests {
    private func idleTask() -> Task<Void, Never> {
        Task { try? await Task.sleep(for: .seconds(3600)) }
    }

    @Test("a stale key finds nothing and frees nothing once its place is reused")
    func staleKey() {
        var slots = CallSlots()
        let first = slots.reserve()
        let firstTask = idleTask()
        slots.record(firstTask, for: first)
        slots.remove(first)
        #expect(slots.count == 0)
        #expect(slots.task(for: first) == nil)

        let second = slots.reserve()  // takes the freed place
        let secondTask = idleTask()
        slots.record(secondTask, for: second)
        #expect(slots.task(for: second) == secondTask)
        #expect(slots.task(for: first) == nil, "the old key must not name the new call")
        slots.record(firstTask, for: first)  // a late record with the old key changes nothing
        #expect(slots.task(for: second) == secondTask)
        slots.remove(first)  // nor does a late remove
        #expect(slots.count == 1)
        #expect(slots.task(for: second) == secondTask)
        firstTask.cancel()
        secondTask.cancel()
    }

    @Test("cancelAll cancels every call holding a place, and only those")
    func cancelAll() {
        var slots = CallSlots()
        var tasks: [Task<Void, Never>] = []
        var keys: [CallSlots.Key] = []
        for _ in 0..<5 {
            let key = slots.reserve()
            let task = idleTask()
            slots.record(task, for: key)
            keys.append(key)
            tasks.append(task)
        }
        slots.remove(keys[1])
        slots.remove(keys[3])
        #expect(slots.count == 3)
        slots.cancelAll()
        #expect(tasks.map(\.isCancelled) == [true, false, true, false, true])
        tasks[1].cancel()
        tasks[3].cancel()
    }
}
