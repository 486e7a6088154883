import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// A fleet as an operator runs it: several real `marketplace-usersd`
/// processes, each on its own socket and data directory, all on one
/// PostgreSQL database and one key file (`--key-file`, so that each opens the
/// invitation tokens the others sealed). Started together, so that their migrations
/// race (they run once, under the backend's advisory lock).
final class Fleet: Sendable {
    let directory: TemporaryDirectory
    let storage: TestStorage
    let daemons: [DaemonProcess]
    /// The fleet's key file, given to every daemon with `--key-file`.
    var keyFile: String { directory.appending("secrets.key") }
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
        // One key file for the whole fleet, made as an operator makes it
        // (`keygen`, mode 0600) and given to every daemon with --key-file:
        // each opens the invitation tokens the others sealed.
        let key = directory.appending("secrets.key")
        let keygen = try await runProcess(DaemonProcess.executable, ["keygen", "--key-file", key])
        guard keygen.status == 0 else {
            throw RPCError(.internal, "keygen --key-file \(key) failed: \(keygen.stderr)")
        }
        var daemons: [DaemonProcess] = []
        for index in 0..<count {
            let data = directory.appending("data\(index)")
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            daemons.append(try DaemonProcess(
                socketPath: directory.appending("d\(index).sock"), dataDirectory: data,
                logPath: directory.appending("d\(index).log"),
                arguments: storage.daemonArguments + ["--key-file", key] + arguments))
        }
        let fleet = Fleet(directory: directory, storage: storage, daemons: daemons)
        for (index, daemon) in daemons.enumerated() {
            guard await daemon.waitUntilReady() else {
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
