import Foundation
import MarketplaceClient
import class MarketplaceDomain.ManualWallClock
import Synchronization
import MarketplaceTestSupport
import Testing

/// Runs `racers` at once (each started from one barrier) and returns their outcomes in order.
private func race(_ racers: [@Sendable () async -> StatusCode]) async -> [StatusCode] {
    await withTaskGroup(of: (Int, StatusCode).self) { group in
        for (i, racer) in racers.enumerated() {
            group.addTask { (i, await racer()) }
        }
        var results = [StatusCode](repeating: .unknown, count: racers.count)
        for await (i, code) in group { results[i] = code }
        return results
    }
}

/// Where the racers call: one server (on the tests' backend), or, on
/// PostgreSQL, a fleet of 3 daemons on one database, racer `i` calling daemon
/// `i % 3`: several daemons, not just several connections.
enum RaceTarget: String, Sendable, CustomTestStringConvertible {
    case server
    case fleet

    static var available: [RaceTarget] { TestBackend.current == .postgres ? [.server, .fleet] : [.server] }

    var testDescription: String { self == .server ? "one server" : "3 daemons on one database" }
}

/// Runs `body` with the clients of `target` (one for a server, one per daemon for a fleet).
private func withClients(
    _ target: RaceTarget, fleetArguments: [String] = [], _ body: ([MarketplaceClient]) async throws -> Void
) async throws {
    switch target {
    case .server: try await withUsersServer { _, client in try await body([client]) }
    case .fleet: try await withFleet(arguments: fleetArguments) { fleet in try await body(fleet.clients) }
    }
}

/// Races in the domain, through the real server: each ends in exactly one
/// consistent outcome, whatever the interleaving. Every race runs many times.
@Suite("Races in the domain", .serialized)
struct DomainRaceTests {
    @Test("the same invitation accepted by 8 at once, 10 times: one OK, the rest FAILED_PRECONDITION, one active member", arguments: RaceTarget.available)
    func acceptTwice(on target: RaceTarget) async throws {
        try await withClients(target) { clients in
            let client = clients[0]
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            for round in 0..<10 {
                let invited = try await f.invite(acme, "accept-\(round)@example.com", groups: [staff])
                let link = invited.invitationLink
                let codes = await race((0..<8).map { i in { await statusCode { try await Fixture(client: clients[i % clients.count]).accept(link) } } })
                #expect(codes.filter { $0 == .ok }.count == 1, "round \(round): \(codes)")
                #expect(codes.allSatisfy { $0 == .ok || $0 == .failedPrecondition }, "round \(round): \(codes)")
                let member = try #require(try await client.accountUsers.getAccountUser(.init(accountUserId: invited.accountUser?.id ?? "")).accountUser)
                #expect(member.status == .active)
                #expect(try await client.invitations.showInvitation(.init(token: token(of: link))).invitation?.state == .accepted)
            }
        }
    }

    @Test("the same email invited 8 times at once: one OK, the rest ALREADY_EXISTS, one membership, one email queued", arguments: RaceTarget.available)
    func inviteTwice(on target: RaceTarget) async throws {
        try await withClients(target) { clients in
            let client = clients[0]
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            for round in 0..<10 {
                let email = "twice-\(round)@example.com"
                let codes = await race((0..<8).map { i in { await statusCode { try await Fixture(client: clients[i % clients.count]).invite(acme, email, groups: [staff]) } } })
                #expect(codes.filter { $0 == .ok }.count == 1, "round \(round): \(codes)")
                #expect(codes.allSatisfy { $0 == .ok || $0 == .alreadyExists }, "round \(round): \(codes)")
                let members = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, query: email)).accountUsers
                #expect(members.count == 1)
                let mails = try await client.outbox.listPendingMessages(.init(limit: 500)).messages.filter { $0.recipientEmail == email }
                #expect(mails.count == 1, "\(mails.count) emails queued for \(email)")
            }
        }
    }

    @Test("a new email invited into 6 accounts at once: every invite OK, one user behind them", arguments: RaceTarget.available)
    func inviteIntoManyAccounts(on target: RaceTarget) async throws {
        try await withClients(target) { clients in
            let client = clients[0]
            let f = Fixture(client: client)
            var accounts: [(Account, Group)] = []
            for i in 0..<6 {
                let (account, _, staff) = try await f.accountWithGroups("Acme \(i)")
                accounts.append((account, staff))
            }
            for round in 0..<5 {
                let email = "many-\(round)@example.com"
                let targets = accounts
                let codes = await race(targets.enumerated().map { i, target in
                    { await statusCode { try await Fixture(client: clients[i % clients.count]).invite(target.0, email, groups: [target.1]) } }
                })
                #expect(codes.allSatisfy { $0 == .ok }, "round \(round): \(codes)")
                let user = try #require(try await client.users.findUserByEmail(.init(email: email)).user)
                for (account, _) in targets {
                    let members = try await client.accountUsers.listAccountUsers(.init(accountId: account.id, query: email)).accountUsers
                    #expect(members.map { $0.user?.id } == [user.id])
                }
            }
        }
    }

    @Test("renewed twice while the old link is accepted: one renewal, the old link refused, one pending invitation", arguments: RaceTarget.available)
    func renewWhileAccepting(on target: RaceTarget) async throws {
        switch target {
        case .server:
            // A manual clock: expiry is exact.
            let clock = ManualWallClock(start: Date(timeIntervalSince1970: 1_800_000_000))
            try await withUsersServer(configure: { $0.clock = clock; $0.invitationTTL = .seconds(90) }) { _, client in
                try await renewWhileAccepting(clients: [client], rounds: 10) { _, _ in clock.advance(by: .seconds(91)) }
            }
        case .fleet:
            // Separate processes keep real time: links that expire soon, waited for.
            let ttl = 4
            try await withFleet(arguments: ["--invitation-ttl", "\(ttl)s"]) { fleet in
                try await renewWhileAccepting(clients: fleet.clients, rounds: 3, ttl: .seconds(ttl)) { client, id in
                    let deadline = ContinuousClock.now + .seconds(60)
                    while try await client.accountUsers.getAccountUser(.init(accountUserId: id)).accountUser?.status != .invitationExpired {
                        try #require(ContinuousClock.now < deadline, "the invitation did not expire")
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
            }
        }
    }

    /// Each round: an invitation expires (`expire`), is renewed twice (on two
    /// daemons of a fleet) while its old link is accepted (on a third), then
    /// its new link is accepted while renewed again. `ttl`: how long a link
    /// lives in real time (a fleet), after which the last race proves nothing.
    private func renewWhileAccepting(
        clients: [MarketplaceClient], rounds: Int, ttl: Duration? = nil,
        expire: (MarketplaceClient, String) async throws -> Void
    ) async throws {
        let client = clients[0]
        let at: @Sendable (Int) -> MarketplaceClient = { clients[$0 % clients.count] }
        let f = Fixture(client: client)
        let (acme, _, staff) = try await f.accountWithGroups()
        for round in 0..<rounds {
            let invited = try await f.invite(acme, "renew-\(round)@example.com", groups: [staff])
            let id = try #require(invited.accountUser).id
            try await expire(client, id)
            let renewed = RenewedLinks()
            let codes = await race([
                { await statusCode { renewed.add(try await at(0).accountUsers.renewInvitation(.init(accountUserId: id)).invitationLink) } },
                { await statusCode { renewed.add(try await at(1).accountUsers.renewInvitation(.init(accountUserId: id)).invitationLink) } },
                { await statusCode { try await Fixture(client: at(2)).accept(invited.invitationLink) } },
            ])
            let renewedAt = ContinuousClock.now
            #expect(codes[0...1].filter { $0 == .ok }.count == 1, "round \(round): \(codes)")
            #expect(codes[0...1].allSatisfy { $0 == .ok || $0 == .failedPrecondition }, "round \(round): \(codes)")
            #expect(codes[2] == .failedPrecondition, "the expired link was accepted in round \(round)")
            let link = try #require(renewed.links.first)
            #expect(renewed.links.count == 1)
            #expect(try await client.accountUsers.getInvitationLink(.init(accountUserId: id)).invitationLink == link)
            #expect(try await client.invitations.showInvitation(.init(token: token(of: invited.invitationLink))).invitation?.state == .replaced)

            // The new link, accepted while being renewed again (refused: it is pending).
            let second = await race([
                { await statusCode { try await Fixture(client: at(round + 1)).accept(link) } },
                { await statusCode { try await at(round + 2).accountUsers.renewInvitation(.init(accountUserId: id)) } },
            ])
            if let ttl, ContinuousClock.now - renewedAt >= ttl { continue }  // the new link expired first: nothing to check
            #expect(second == [.ok, .failedPrecondition], "round \(round): \(second)")
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: id)).accountUser?.status == .active)
        }
    }

    @Test("a member removed while their invitation is accepted: either order, one consistent end", arguments: RaceTarget.available)
    func removeWhileAccepting(on target: RaceTarget) async throws {
        try await withClients(target) { clients in
            let client = clients[0]
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            var orders: [String: Int] = [:]
            for round in 0..<20 {
                let invited = try await f.invite(acme, "remove-\(round)@example.com", groups: [staff])
                let id = try #require(invited.accountUser).id
                let other = clients[(round + 1) % clients.count]
                let codes = await race([
                    { await statusCode { try await f.accept(invited.invitationLink) } },
                    { await statusCode { try await other.accountUsers.removeAccountUser(.init(accountUserId: id)) } },
                ])
                // The removal always wins the end state; the accept either came first or is refused.
                #expect(codes[1] == .ok, "round \(round): \(codes)")
                #expect(codes[0] == .ok || codes[0] == .failedPrecondition, "round \(round): \(codes)")
                let member = try #require(try await client.accountUsers.getAccountUser(.init(accountUserId: id)).accountUser)
                #expect(member.status == .disabled, "round \(round): \(member.status)")
                let state = try await client.invitations.showInvitation(.init(token: token(of: invited.invitationLink))).invitation?.state
                if codes[0] == .ok {
                    #expect(state == .accepted, "accepted, yet the invitation is \(String(describing: state))")
                    #expect(member.joinedAt != nil)
                } else {
                    #expect(state != .pending && state != .accepted, "refused, yet the invitation is \(String(describing: state))")
                }
                // The link no longer works.
                await expectRPCError(.failedPrecondition) { try await f.accept(invited.invitationLink) }
                orders[codes[0] == .ok ? "accept first" : "remove first", default: 0] += 1
            }
            print("remove while accepting: \(orders)")
        }
    }
}

private final class RenewedLinks: Sendable {
    private let state = Mutex<[String]>([])
    func add(_ link: String) { state.withLock { $0.append(link) } }
    var links: [String] { state.withLock { $0 } }
}
