import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Synchronization
import Testing

@Suite("SIGTERM under load and restart of the real daemon", .serialized)
struct ShutdownTests {
    @Test("SIGTERM under load: every in-flight call finishes OK or fails UNAVAILABLE, none hangs; clients reconnect after restart")
    func sigtermUnderLoad() async throws {
        let directory = try TemporaryDirectory(prefix: "term")
        defer { directory.remove() }
        let socket = directory.appending("s.sock")
        let data = directory.appending("data")
        let storage = try await TestStorage.forDataDirectory(data)
        let log = directory.appending("daemon.log")
        let grace = 5
        var daemon = try DaemonProcess(
            socketPath: socket, dataDirectory: data, logPath: log,
            arguments: ["--shutdown-grace", "\(grace)"] + storage.daemonArguments)
        try #require(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
        // Several clients (connections), each with many calls in flight.
        let clients = (0..<4).map { _ in MarketplaceClient(socketPath: socket) }
        let f = Fixture(client: clients[0])
        let (account, _, staff) = try await f.accountWithGroups()

        let tally = Tally()
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<32 {
                    let client = clients[worker % clients.count]
                    group.addTask {
                        for i in 0..<1_000 {
                            let email = "t-w\(worker)-\(i)@example.com"
                            let code: String
                            do {
                                _ = try await client.accountUsers.inviteUser(
                                    .init(accountId: account.id, email: email, firstName: "A", lastName: "B", groupIds: [staff.id]),
                                    options: CallOptions(timeout: .seconds(30)))
                                tally.acknowledge(email)
                                code = "OK"
                            } catch let error as RPCError {
                                code = error.code.name
                            } catch {
                                code = "\(error)"
                            }
                            tally.count(code)
                            if code != "OK" { return }
                        }
                    }
                }
            }
        }
        // Under load for real: some calls answered (slower under sanitizers).
        let loaded = ContinuousClock.now + .seconds(20)
        while tally.counts["OK", default: 0] < 50, ContinuousClock.now < loaded {
            try await Task.sleep(for: .milliseconds(50))
        }
        let okBefore = tally.counts["OK", default: 0]
        #expect(okBefore > 0, "no call completed before SIGTERM")
        let signalled = ContinuousClock.now
        daemon.signal(SIGTERM)
        let status = await daemon.waitForExit(seconds: Double(grace) + 10)
        #expect(status == 0, "daemon exit status \(String(describing: status)): \(daemon.log.suffix(2000))")
        // No call hangs: every worker has its answer shortly after the daemon is gone.
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await load.value; return true }
            group.addTask { try? await Task.sleep(for: .seconds(10)); return false }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
        #expect(finished, "calls still waiting 10 s after the daemon exited")
        #expect(ContinuousClock.now - signalled < .seconds(grace + 12))
        let seen = tally.counts
        #expect(Set(seen.keys).isSubset(of: ["OK", "UNAVAILABLE"]), "outcomes: \(seen)")
        print("SIGTERM under load: \(seen)")

        // Restart on the same data: the same clients reconnect, and every
        // acknowledged invite is there.
        daemon = try DaemonProcess(socketPath: socket, dataDirectory: data, logPath: log, arguments: storage.daemonArguments)
        try #require(await daemon.waitUntilReady(), "daemon did not restart: \(daemon.log.suffix(2000))")
        for client in clients {
            #expect(try await client.health.check().status == .serving)
        }
        let emails = Set(tally.acknowledged)
        var found = Set<String>()
        var pageToken = ""
        repeat {
            let page = try await clients[1].accountUsers.listAccountUsers(.init(accountId: account.id, pageSize: 100, pageToken: pageToken))
            found.formUnion(page.accountUsers.compactMap { $0.user?.email })
            pageToken = page.nextPageToken
        } while !pageToken.isEmpty
        #expect(emails.isSubset(of: found), "\(emails.subtracting(found).count) acknowledged invites lost")
        for client in clients { await client.close() }
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
        #expect(try await storageViolations(in: storage).isEmpty)
        await storage.remove()
    }
}
