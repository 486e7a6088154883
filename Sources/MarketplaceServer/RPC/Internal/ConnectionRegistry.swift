import MarketplaceRPC
import NIOCore
import Synchronization

/// The server's open connections: bounds their number, overall and per uid,
/// keeps places for operators, and reaches each one at shutdown.
///
/// A peer that is not an operator is admitted while fewer than
/// `limit - reservedForOperators` connections are open and its uid holds fewer
/// than `perUID`; an operator while fewer than `limit` are open (operators
/// have no per-uid share). So one uid cannot take every place, and however
/// many places others take, operators still get in.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        let channel: any Channel
        let handler: NIOLoopBound<ServerConnectionHandler>
        let uid: UInt32
    }

    private struct State {
        var admitted = 0
        var perUID: [UInt32: Int] = [:]
        var nextID = 0
        var entries: [Int: Entry] = [:]

        mutating func release(_ uid: UInt32) {
            let held = perUID[uid, default: 0] - 1
            perUID[uid] = held > 0 ? held : nil
        }
    }

    private let limit: Int
    private let perUID: Int
    private let reservedForOperators: Int
    private let state = Mutex(State())

    init(limit: Int, perUID: Int = .max, reservedForOperators: Int = 0) {
        self.limit = limit
        self.perUID = perUID
        self.reservedForOperators = min(max(reservedForOperators, 0), limit)
    }

    /// Reserves a place for a new connection of `uid`; nil when admitted,
    /// otherwise why not.
    func admit(uid: UInt32, isOperator: Bool) -> String? {
        state.withLock { state in
            if isOperator {
                guard state.admitted < limit else { return "all \(limit) connections are taken" }
            } else {
                guard state.admitted < limit - reservedForOperators else {
                    return "the \(limit - reservedForOperators) connections open to non-operators are taken"
                }
                guard state.perUID[uid, default: 0] < perUID else {
                    return "uid \(uid) already holds its share of \(perUID) connections"
                }
            }
            state.admitted += 1
            state.perUID[uid, default: 0] += 1
            return nil
        }
    }

    func register(channel: any Channel, handler: NIOLoopBound<ServerConnectionHandler>, uid: UInt32) -> Int {
        state.withLock { state in
            state.nextID += 1
            state.entries[state.nextID] = Entry(channel: channel, handler: handler, uid: uid)
            return state.nextID
        }
    }

    func remove(_ id: Int) {
        state.withLock { state in
            if let entry = state.entries.removeValue(forKey: id) {
                state.admitted -= 1
                state.release(entry.uid)
            }
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
