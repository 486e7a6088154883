import NIOCore
import Synchronization

/// The server's open connections: bounds their number and reaches each one at
/// shutdown.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        let channel: any Channel
        let handler: NIOLoopBound<ServerConnectionHandler>
    }

    private struct State {
        var admitted = 0
        var nextID = 0
        var entries: [Int: Entry] = [:]
    }

    private let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    /// Reserves a place for a new connection; false when the limit is reached.
    func admit() -> Bool {
        state.withLock { state in
            guard state.admitted < limit else { return false }
            state.admitted += 1
            return true
        }
    }

    func register(channel: any Channel, handler: NIOLoopBound<ServerConnectionHandler>) -> Int {
        state.withLock { state in
            state.nextID += 1
            state.entries[state.nextID] = Entry(channel: channel, handler: handler)
            return state.nextID
        }
    }

    func remove(_ id: Int) {
        state.withLock { state in
            if state.entries.removeValue(forKey: id) != nil { state.admitted -= 1 }
        }
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Asks every connection to refuse new calls and close when its calls are answered.
    func drainAll() {
        let entries = state.withLock { Array($0.entries.values) }
        for entry in entries {
            let handler = entry.handler
            entry.channel.eventLoop.execute { handler.value.startDraining() }
        }
    }

    func closeAll() async {
        let channels = state.withLock { $0.entries.values.map(\.channel) }
        for channel in channels { try? await channel.close() }
    }
}
