import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Synchronization
import Testing

private func bearer(_ token: String) -> CallOptions {
    CallOptions(metadata: ["authorization": "Bearer \(token)"])
}

/// A fleet, tested as one (issue 12): three real daemons on three sockets
/// against one PostgreSQL database behave as one service. The races of
/// `DomainRaceTests` also run over the fleet (`RaceTarget.fleet`).
@Suite("A fleet of 3 daemons on one PostgreSQL database", .postgresOnly, .serialized)
struct FleetTests {
    static let password = "Str0ng!pass"

    @Test("an invitation made through one daemon is shown and accepted through another; every daemon sees the member")
    func invitationAcrossDaemons() async throws {
        try await withFleet { fleet in
            // Started together on an empty database, the daemons migrated it
            // once: each migration is applied by exactly one of them (the
            // others waited for the advisory lock, then found nothing to do).
            let logs = fleet.daemons.map(\.log)
            for migration in ["0001-initial", "0002-invited-person-and-sign-in-failures", "0003-changes-notify"] {
                let applied = logs.map { $0.components(separatedBy: "applied database migration migration=\(migration)").count - 1 }
                #expect(applied.reduce(0, +) == 1, "\(migration) applied \(applied) times, by daemon: \(fleet.logs)")
            }
            #expect(logs.allSatisfy { $0.contains("database schema current") })
            let f = Fixture(client: fleet.client(0))
            let (acme, _, staff) = try await f.accountWithGroups()
            let invited = try await Fixture(client: fleet.client(1)).invite(acme, "ada@example.com", groups: [staff])
            let id = try #require(invited.accountUser).id
            // The one email queued through daemon 1 is pending on every daemon
            // (until the invitation ends: then it is withdrawn).
            for client in fleet.clients {
                let mails = try await client.outbox.listPendingMessages(.init()).messages.filter { $0.recipientEmail == "ada@example.com" }
                #expect(mails.count == 1)
            }
            let shown = try await fleet.client(2).invitations.showInvitation(.init(token: token(of: invited.invitationLink)))
            #expect(shown.invitation?.email == "ada@example.com" && shown.invitation?.state == .pending)
            let accepted = try await Fixture(client: fleet.client(2)).accept(invited.invitationLink)
            #expect(accepted.id == id && accepted.status == .active)
            for client in fleet.clients {
                #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: id)).accountUser?.status == .active)
                await expectRPCError(.failedPrecondition) { try await Fixture(client: client).accept(invited.invitationLink) }
            }
            // They opened each other's tokens with the one key file given by
            // --key-file (mode 0600), not with keys of their own.
            let mode = try FileManager.default.attributesOfItem(atPath: fleet.keyFile)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            for daemon in fleet.daemons {
                #expect(!FileManager.default.fileExists(atPath: daemon.dataDirectory + "/secrets.key"), "a key of its own in \(daemon.dataDirectory)")
            }
        }
    }

    @Test("a session made on one daemon works on the others and dies everywhere, at the next call, on sign-out, block, removal and deletion")
    func sessionsAcrossDaemons() async throws {
        try await withFleet { fleet in
            let f = Fixture(client: fleet.client(0))
            let (acme, admins, _) = try await f.accountWithGroups()
            // Four administrators of Acme, one per way a session ends.
            var members: [String: AccountUser] = [:]
            for (index, name) in ["signout", "block", "remove", "delete"].enumerated() {
                let invited = try await Fixture(client: fleet.client(index)).invite(acme, "\(name)@example.com", groups: [admins])
                members[name] = try await Fixture(client: fleet.client(index + 1)).accept(invited.invitationLink, password: Self.password)
            }
            func signIn(_ name: String, on index: Int) async throws -> String {
                try await fleet.client(index).sessions.signIn(.init(email: "\(name)@example.com", password: Self.password)).token
            }
            /// An administrator's call in Acme through every daemon: the codes.
            func listEverywhere(_ token: String) async -> [StatusCode] {
                var codes: [StatusCode] = []
                for client in fleet.clients {
                    codes.append(await statusCode { try await client.accountUsers.listAccountUsers(.init(accountId: acme.id), options: bearer(token)) })
                }
                return codes
            }
            func whoAmIEverywhere(_ token: String) async -> [StatusCode] {
                var codes: [StatusCode] = []
                for client in fleet.clients { codes.append(await statusCode { try await client.sessions.whoAmI(.init(), options: bearer(token)) }) }
                return codes
            }

            // Sign-out on daemon 1 of a session made on daemon 0.
            let signedOut = try await signIn("signout", on: 0)
            #expect(await listEverywhere(signedOut) == [.ok, .ok, .ok])
            _ = try await fleet.client(1).sessions.signOut(.init(), options: bearer(signedOut))
            #expect(await whoAmIEverywhere(signedOut) == [.unauthenticated, .unauthenticated, .unauthenticated], "after sign-out")

            // Blocked through daemon 2: the session made on daemon 1 loses Acme everywhere.
            let blocked = try await signIn("block", on: 1)
            #expect(await listEverywhere(blocked) == [.ok, .ok, .ok])
            _ = try await fleet.client(2).accountUsers.blockAccountUser(.init(accountUserId: try #require(members["block"]).id))
            #expect(await listEverywhere(blocked) == [.permissionDenied, .permissionDenied, .permissionDenied], "after block")

            // Removed through daemon 0: the session made on daemon 2 loses Acme everywhere.
            let removed = try await signIn("remove", on: 2)
            #expect(await listEverywhere(removed) == [.ok, .ok, .ok])
            _ = try await fleet.client(0).accountUsers.removeAccountUser(.init(accountUserId: try #require(members["remove"]).id))
            #expect(await listEverywhere(removed) == [.permissionDenied, .permissionDenied, .permissionDenied], "after removal")

            // Deleted through daemon 1: the session made on daemon 0 ends everywhere.
            let deleted = try await signIn("delete", on: 0)
            #expect(await whoAmIEverywhere(deleted) == [.ok, .ok, .ok])
            _ = try await fleet.client(1).users.deleteUser(.init(userId: try #require(members["delete"]?.user).id))
            #expect(await whoAmIEverywhere(deleted) == [.unauthenticated, .unauthenticated, .unauthenticated], "after deletion")
        }
    }

    @Test("the sign-in throttle counts failures on every daemon: 5 wrong passwords over 3 daemons lock the email on all")
    func throttleAcrossDaemons() async throws {
        try await withFleet { fleet in
            let f = Fixture(client: fleet.client(0))
            let (acme, _, staff) = try await f.accountWithGroups()
            _ = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [staff]).invitationLink, password: Self.password)
            // The default limit: 5 failures per email within the window.
            for attempt in 0..<5 {
                let refused = await statusCode { try await fleet.client(attempt).sessions.signIn(.init(email: "ada@example.com", password: "Wrong!pass\(attempt)")) }
                #expect(refused == .unauthenticated, "wrong password \(attempt) on daemon \(attempt % 3): \(refused)")
            }
            // No daemon saw 5 failures itself; together they did.
            for (index, client) in fleet.clients.enumerated() {
                let locked = await statusCode { try await client.sessions.signIn(.init(email: "ada@example.com", password: Self.password)) }
                #expect(locked == .resourceExhausted, "daemon \(index) let the right password in after 5 failures on the fleet: \(locked)")
            }
        }
    }

    @Test("two mail senders on two daemons collect the outbox at once, no message handed to both; a dead sender's messages come back after the lease")
    func outboxAcrossDaemons() async throws {
        try await withFleet { fleet in
            let f = Fixture(client: fleet.client(0))
            let (acme, _, staff) = try await f.accountWithGroups()
            let count = 60
            for i in 0..<count { _ = try await Fixture(client: fleet.client(i)).invite(acme, "mail\(i)@example.com", groups: [staff]) }
            let pending = Set(try await fleet.client(2).outbox.listPendingMessages(.init(limit: 500)).messages.map(\.id))
            #expect(pending.count == count)

            // Two senders, each on its own daemon, claim small batches and mark them sent, until the outbox is empty.
            let handed = Handouts()
            await withTaskGroup(of: Void.self) { group in
                for sender in 0..<2 {
                    let client = fleet.client(sender)
                    group.addTask {
                        while let claim = try? await client.outbox.claimMessages(.init(limit: 3, leaseSeconds: 300)), !claim.messages.isEmpty {
                            handed.add(claim.messages.map(\.id), to: sender)
                            _ = try? await client.outbox.markMessagesSent(.init(messageIds: claim.messages.map(\.id)))
                        }
                    }
                }
            }
            let outcome = handed.senders
            #expect(Set(outcome.keys) == pending, "every pending message handed out")
            let twice = outcome.filter { $0.value.count > 1 }
            #expect(twice.isEmpty, "handed out more than once: \(twice)")
            #expect(Set(outcome.values.flatMap { $0 }) == [0, 1], "both senders got work: \(outcome.values.map { $0.first ?? -1 })")
            #expect(try await fleet.client(1).outbox.listPendingMessages(.init()).messages.isEmpty)

            // A sender on daemon 2 claims and dies (its daemon too) before sending.
            for i in 0..<4 { _ = try await Fixture(client: fleet.client(i)).invite(acme, "late\(i)@example.com", groups: [staff]) }
            let lease = 3
            let claimedAt = ContinuousClock.now
            let dead = try await fleet.client(2).outbox.claimMessages(.init(limit: 10, leaseSeconds: Int32(lease)))
            #expect(dead.messages.count == 4)
            fleet.daemons[2].signal(SIGKILL)
            _ = await fleet.daemons[2].waitForExit(seconds: 10)
            let early = try await fleet.client(0).outbox.claimMessages(.init(limit: 10, leaseSeconds: 300))
            if ContinuousClock.now - claimedAt < .seconds(lease) {
                #expect(early.messages.isEmpty, "handed out again while the dead sender's lease ran: \(early.messages.map(\.id))")
            }
            // Once the lease is over, a live sender gets them, each once, as a second attempt.
            var again: [OutboxMessage] = early.messages
            let deadline = ContinuousClock.now + .seconds(60)
            while again.count < dead.messages.count && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                again += try await fleet.client(1).outbox.claimMessages(.init(limit: 10, leaseSeconds: 300)).messages
            }
            #expect(Set(again.map(\.id)) == Set(dead.messages.map(\.id)) && again.count == dead.messages.count)
            #expect(again.allSatisfy { $0.attempts == 2 })
            #expect(ContinuousClock.now - claimedAt >= .seconds(lease))
        }
    }
}

/// Which senders each outbox message was handed to.
private final class Handouts: Sendable {
    private let state = Mutex<[String: [Int]]>([:])
    func add(_ ids: [String], to sender: Int) { state.withLock { for id in ids { $0[id, default: []].append(sender) } } }
    var senders: [String: [Int]] { state.withLock { $0 } }
}
