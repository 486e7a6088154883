import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// A fleet as an operator runs it: several real `marketplace-usersd`
/// processes, each on its own socket and data directory, all on one
/// PostgreSQL database and one key (so that each opens the invitation
/// tokens the others sealed). Started together, so that their migrations
/// race (they run once, under the backend's advisory lock).
final class Fleet: Sendable {
    let directory: TemporaryDirectory
    let storage: TestStorage
    let daemons: [DaemonProcess]
    /// One client per daemon, in the daemons' order.
    let clients: [MarketplaceClient]

    private init(directory: TemporaryDirectory, storage: TestStorage, daemons: [DaemonProcess]) {
        self.directory = directory
        self.storage = storage
        self.daemons = daemons
        clients = daemons.map { MarketplaceClient(socketPath: $0.socketPath) }
    }

    /// Starts `count` daemons with `arguments` on a fresh database and waits
    /// until each answers.
    static func start(count: Int = 3, arguments: [String] = []) async throws -> Fleet {
        let directory = try TemporaryDirectory(prefix: "fleet")
        let storage = try await TestStorage.forDataDirectory(directory.appending("db"), backend: .postgres)
        // One key for the whole fleet, made here and given to every daemon.
        let key = directory.appending("secrets.key")
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        guard FileManager.default.createFile(atPath: key, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw RPCError(.internal, "cannot write \(key)")
        }
        var daemons: [DaemonProcess] = []
        for index in 0..<count {
            let data = directory.appending("data\(index)")
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try FileManager.default.copyItem(atPath: key, toPath: data + "/secrets.key")
            daemons.append(try DaemonProcess(
                socketPath: directory.appending("d\(index).sock"), dataDirectory: data,
                logPath: directory.appending("d\(index).log"), arguments: storage.daemonArguments + arguments))
        }
        let fleet = Fleet(directory: directory, storage: storage, daemons: daemons)
        for (index, daemon) in daemons.enumerated() {
            guard await daemon.waitUntilReady(seconds: 60) else {
                await fleet.stop()
                throw RPCError(.unavailable, "daemon \(index) of the fleet did not start: \(daemon.log.suffix(3000))")
            }
        }
        return fleet
    }

    /// The client of daemon `index`, counting round the fleet.
    func client(_ index: Int) -> MarketplaceClient { clients[index % clients.count] }

    /// Closes the clients, stops every daemon (SIGTERM), checks the database
    /// for half-done operations, drops it and removes the directories.
    func stop() async {
        for client in clients { await client.close() }
        for daemon in daemons where daemon.isRunning { daemon.signal(SIGTERM) }
        for daemon in daemons { _ = await daemon.waitForExit(seconds: 20) }
        await storage.remove()
        directory.remove()
    }

    /// Logs of every daemon, for failure messages.
    var logs: String {
        daemons.enumerated().map { "--- daemon \($0.offset):\n\($0.element.log.suffix(2000))" }.joined(separator: "\n")
    }
}

/// Runs `body` with a started fleet, then checks that the database holds no
/// half-done operation and stops the fleet, whether `body` threw or not.
func withFleet(
    count: Int = 3, arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (Fleet) async throws -> Void
) async throws {
    let fleet = try await Fleet.start(count: count, arguments: arguments)
    let outcome: Result<Void, any Error>
    do {
        try await body(fleet)
        outcome = .success(())
    } catch {
        outcome = .failure(error)
    }
    let violations = (try? await storageViolations(in: fleet.storage)) ?? ["the database could not be checked"]
    #expect(violations.isEmpty, "\(violations)", sourceLocation: sourceLocation)
    if case .failure = outcome { print(fleet.logs) }
    await fleet.stop()
    try outcome.get()
}
