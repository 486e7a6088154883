import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Synchronization
import Testing

/// What the client saw acknowledged: invites (with their link) and accepts.
private final class Acknowledged: Sendable {
    struct Invite: Sendable {
        let email: String
        let accountUserID: String
        let link: String
    }

    private let state = Mutex<(invites: [Invite], accepted: Set<String>)>(([], []))

    func invited(_ invite: Invite) { state.withLock { $0.invites.append(invite) } }
    func accepted(_ accountUserID: String) { state.withLock { _ = $0.accepted.insert(accountUserID) } }
    var invites: [Invite] { state.withLock { $0.invites } }
    var accepts: Set<String> { state.withLock { $0.accepted } }
}

/// Rounds of the crash test: `CRASH_ROUNDS` in the environment (the long run,
/// docs/testing.md), 3 by default.
private let crashRounds = ProcessInfo.processInfo.environment["CRASH_ROUNDS"].flatMap(Int.init) ?? 3

@Suite("Crash safety of the real daemon", .serialized)
struct CrashSafetyTests {
    @Test("SIGKILL at random moments during concurrent invites and accepts loses no acknowledged write and leaves nothing half-done")
    func killNine() async throws {
        let directory = try TemporaryDirectory(prefix: "crash")
        defer { directory.remove() }
        let socket = directory.appending("s.sock")
        let data = directory.appending("data")
        // SQLite in `data`, or a PostgreSQL database (`--database`) kept across the restarts.
        let storage = try await TestStorage.forDataDirectory(data)
        let arguments = storage.daemonArguments
        let log = directory.appending("daemon.log")
        var generator = SeededGenerator(seed: UInt64(ProcessInfo.processInfo.environment["CRASH_SEED"].flatMap(UInt64.init) ?? 0xC0FFEE))
        let acknowledged = Acknowledged()
        let client = MarketplaceClient(socketPath: socket)

        var daemon = try DaemonProcess(socketPath: socket, dataDirectory: data, logPath: log, arguments: arguments)
        #expect(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
        let f = Fixture(client: client)
        let (account, _, staff) = try await f.accountWithGroups()

        for round in 0..<crashRounds {
            if round > 0 {
                daemon = try DaemonProcess(socketPath: socket, dataDirectory: data, logPath: log, arguments: arguments)
                try #require(await daemon.waitUntilReady(), "daemon did not restart after round \(round - 1): \(daemon.log.suffix(2000))")
                try await verify(acknowledged, client: client)
            }
            let before = acknowledged.invites.count
            // Eight workers invite and accept until the server dies under them.
            let workers = Task {
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            var i = 0
                            while true {
                                i += 1
                                let email = "r\(round)-w\(worker)-\(i)@example.com"
                                guard let invited = try? await client.accountUsers.inviteUser(.init(
                                    accountId: account.id, email: email, firstName: "Ada", lastName: "Lovelace",
                                    groupIds: [staff.id])), let id = invited.accountUser?.id
                                else { return }
                                acknowledged.invited(.init(email: email, accountUserID: id, link: invited.invitationLink))
                                guard worker % 2 == 0 || i % 3 != 0 else { continue }  // leave some invited
                                guard (try? await client.invitations.acceptInvitation(.init(
                                    token: token(of: invited.invitationLink), firstName: "Ada", lastName: "Lovelace",
                                    password: "Str0ng!pass", acceptTerms: true))) != nil
                                else { return }
                                acknowledged.accepted(id)
                            }
                        }
                    }
                }
            }
            // The kill comes at a random moment once writes are flowing (the
            // first write of a round may wait for the database's connections).
            let flowing = ContinuousClock.now + .seconds(60)
            while acknowledged.invites.count == before && ContinuousClock.now < flowing {
                try await Task.sleep(for: .milliseconds(10))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 200...1_500, using: &generator)))
            daemon.signal(SIGKILL)
            let status = await daemon.waitForExit(seconds: 10)
            #expect(status == SIGKILL, "daemon exit status \(String(describing: status))")
            await workers.value
            // The data as the crash left it: consistent without any recovery by us.
            let violations = try await storageViolations(in: storage)
            #expect(violations.isEmpty, "after SIGKILL in round \(round): \(violations)")
        }

        daemon = try DaemonProcess(socketPath: socket, dataDirectory: data, logPath: log, arguments: arguments)
        try #require(await daemon.waitUntilReady(), "daemon did not restart: \(daemon.log.suffix(2000))")
        try await verify(acknowledged, client: client)
        #expect(acknowledged.invites.count > crashRounds, "too little work happened to prove anything")
        print("crash safety: \(crashRounds) SIGKILL rounds, \(acknowledged.invites.count) acknowledged invites, \(acknowledged.accepts.count) accepts, all present")
        await client.close()
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
        #expect(try await storageViolations(in: storage).isEmpty)
        await storage.remove()
    }

    /// Every acknowledged invite is there (active when its accept was
    /// acknowledged) and its link still resolves; that each has its queued email
    /// is checked in SQL by `storageViolations`.
    private func verify(_ acknowledged: Acknowledged, client: MarketplaceClient) async throws {
        let accepts = acknowledged.accepts
        for invite in acknowledged.invites {
            let member: AccountUser
            do {
                member = try #require(try await client.accountUsers.getAccountUser(.init(accountUserId: invite.accountUserID)).accountUser)
            } catch {
                Issue.record("acknowledged invite of \(invite.email) is lost: \(error)")
                continue
            }
            #expect(member.user?.email == invite.email)
            if accepts.contains(invite.accountUserID) {
                #expect(member.status == .active, "acknowledged accept of \(invite.email) is lost: \(member.status)")
            } else {
                #expect([.invited, .active].contains(member.status), "\(invite.email): \(member.status)")
            }
            let view = try await client.invitations.showInvitation(.init(token: token(of: invite.link))).invitation
            #expect(view?.email == invite.email)
        }
    }
}
