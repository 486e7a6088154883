import Foundation
import MarketplaceClient
import class MarketplaceDomain.ManualWallClock
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// An account with a member holding one permission, signed in; built by the
/// operator (this root test process).
private struct Member {
    let account: Account
    let admins: Group, staff: Group
    let member: AccountUser
    let token: String

    static func make(_ client: MarketplaceClient, email: String = "member@a.example") async throws -> Member {
        let f = Fixture(client: client)
        let account = try await f.account("A")
        let admins = try await f.group(account)
        let staff = try #require(try await client.groups.createGroup(
            .init(accountId: account.id, name: "Staff", permissions: ["orders.read", "orders.write"])).group)
        let member = try await f.accept(try await f.invite(account, email, groups: [staff]).invitationLink)
        let token = try await client.sessions.signIn(.init(email: email, password: "Str0ng!pass")).token
        return Member(account: account, admins: admins, staff: staff, member: member, token: token)
    }

    func check(_ client: MarketplaceClient, _ permissions: [String] = [], account: String = "", touch: Bool = false, token: String? = nil) async throws -> CheckAccessResponse {
        try await client.access.checkAccess(.init(token: token ?? self.token, accountId: account, permissions: permissions, touch: touch))
    }
}

@Suite("Access/CheckAccess through the real socket")
struct AccessCheckTests {
    // contract: marketplace.users.v1.Access/CheckAccess
    @Test("an active member: allowed, with the user, account, membership, groups and permissions")
    func allowed() async throws {
        try await withUsersServer { _, client in
            let m = try await Member.make(client)
            let answer = try await m.check(client, ["orders.read"])
            #expect(answer.allowed)
            #expect(answer.reason == .unspecified)
            #expect(answer.userId == m.member.user?.id)
            #expect(answer.accountId == m.account.id)
            #expect(answer.accountUserId == m.member.id)
            #expect(answer.membershipStatus == .active)
            #expect(answer.groups.map(\.id) == [m.staff.id])
            #expect(answer.permissions == ["orders.read", "orders.write"])
            #expect(!answer.isAdministrator)
            #expect(answer.sessionExpiresAt != nil)
            // Also with the account named explicitly.
            #expect(try await m.check(client, [], account: m.account.id).allowed)
        }
    }

    @Test("refusals are answers with a reason, not errors")
    func refusals() async throws {
        try await withUsersServer { _, client in
            let m = try await Member.make(client)
            let missing = try await m.check(client, ["orders.read", "billing.pay"])
            #expect(!missing.allowed)
            #expect(missing.reason == .permissionMissing)
            #expect(missing.missingPermissions == ["billing.pay"])
            let other = try await Fixture(client: client).account("B")
            #expect(try await m.check(client, account: other.id).reason == .notAMember)
            #expect(try await m.check(client, token: "mps_unknown").reason == .noSession)
        }
    }

    // contract: marketplace.users.v1.Access/CheckAccess INVALID_ARGUMENT
    @Test("a malformed request is INVALID_ARGUMENT")
    func malformed() async throws {
        try await withUsersServer { _, client in
            let m = try await Member.make(client)
            await expectRPCError(.invalidArgument, "token") { try await m.check(client, token: "") }
            await expectRPCError(.invalidArgument, "account_id") { try await m.check(client, account: "not-an-id") }
            await expectRPCError(.invalidArgument, "permissions[1]") { try await m.check(client, ["a", ""]) }
            await expectRPCError(.invalidArgument, "permissions") { try await m.check(client, Array(repeating: "p", count: 101)) }
        }
    }

    @Test("a block, group change, removal, sign-out and deletion count from the very next check")
    func immediateEffect() async throws {
        try await withUsersServer { _, client in
            let m = try await Member.make(client)
            #expect(try await m.check(client, ["orders.read"]).allowed)

            _ = try await client.accountUsers.blockAccountUser(.init(accountUserId: m.member.id))
            #expect(try await m.check(client, ["orders.read"]).reason == .membershipBlocked)
            _ = try await client.accountUsers.unblockAccountUser(.init(accountUserId: m.member.id))
            #expect(try await m.check(client, ["orders.read"]).allowed)

            _ = try await client.accountUsers.updateAccountUserGroups(.init(accountUserId: m.member.id, groupIds: [m.admins.id]))
            let regrouped = try await m.check(client, ["orders.read"])
            #expect(regrouped.reason == .permissionMissing)
            #expect(regrouped.groups.map(\.id) == [m.admins.id])
            #expect(try await m.check(client).isAdministrator)

            let second = try await client.sessions.signIn(.init(email: "member@a.example", password: "Str0ng!pass")).token
            _ = try await client.sessions.signOut(.init(), options: CallOptions(metadata: ["authorization": "Bearer \(second)"]))
            #expect(try await m.check(client, token: second).reason == .noSession)
            #expect(try await m.check(client).allowed)

            _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: m.member.id))
            #expect(try await m.check(client).reason == .membershipDisabled)

            _ = try await client.users.deleteUser(.init(userId: m.member.user!.id))
            let deleted = try await m.check(client)
            #expect(!deleted.allowed)
            #expect(deleted.reason == .noSession || deleted.reason == .sessionEnded)
        }
    }

    @Test("an invited membership is refused as invited")
    func invited() async throws {
        try await withUsersServer { _, client in
            let m = try await Member.make(client)
            let f = Fixture(client: client)
            let b = try await f.account("B")
            let bStaff = try await f.group(b, "Staff", admin: false)
            _ = try await f.invite(b, "member@a.example", groups: [bStaff])
            #expect(try await m.check(client, account: b.id).reason == .membershipInvited)
        }
    }

    @Test("a check does not extend the session's idle timer unless asked to")
    func touch() async throws {
        let clock = ManualWallClock()
        try await withUsersServer(configure: { $0.clock = clock }) { _, client in
            let m = try await Member.make(client)
            let other = try await client.sessions.signIn(.init(email: "member@a.example", password: "Str0ng!pass")).token
            clock.advance(by: .seconds(20 * 60))
            let untouched = try await m.check(client)
            #expect(untouched.allowed)
            _ = try await m.check(client, touch: true, token: other)
            clock.advance(by: .seconds(15 * 60))  // 35 min after sign-in, 15 after the touch
            #expect(try await m.check(client).reason == .sessionEnded)
            #expect(try await m.check(client, token: other).allowed)
        }
    }

    @Test("a signed-in user may not call it; a service may, and may write nothing")
    func callers() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let m = try await withUsersServer(in: directory) { _, client in try await Member.make(client) }
        try await withUsersServer(in: directory, configure: {
            $0.operators = OperatorPolicy(includesRootAndServerUser: false)
            $0.services = ServicePolicy(uids: [getuid()])
        }) { _, client in
            let before = try await m.check(client, ["orders.read"])
            #expect(before.allowed)
            await expectRPCError(.permissionDenied, "not open to internal services") {
                try await client.accountUsers.blockAccountUser(.init(accountUserId: m.member.id))
            }
            let after = try await m.check(client, ["orders.read"])
            #expect(after.allowed)
            await expectRPCError(.permissionDenied) {
                try await client.access.checkAccess(
                    .init(token: m.token), options: CallOptions(metadata: ["authorization": "Bearer \(m.token)"]))
            }
        }
    }
}
