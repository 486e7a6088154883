import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// The promises of the RPCs added after the first conformance pass: group
/// edits as one server-side step, WhoAmI, and GetAccount's refusal of an
/// administrator outside their current account.
@Suite("Conformance: group edits, WhoAmI, GetAccount for administrators")
struct LaterRPCsConformanceTests {
    // contract: marketplace.users.v1.AccountUsers/AddAccountUserGroups INVALID_ARGUMENT NOT_FOUND FAILED_PRECONDITION
    @Test("AddAccountUserGroups: adds, keeps held groups; refusals for ids, another account's group, a removed member")
    func addGroups() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups()
            let (_, globexAdmins, _) = try await f.accountWithGroups("Globex")
            let member = try #require(try await f.invite(acme, "ada@example.com", groups: [staff]).accountUser)
            let added = try #require(try await client.accountUsers.addAccountUserGroups(
                .init(accountUserId: member.id, groupIds: [admins.id, staff.id])).accountUser)
            #expect(Set(added.groups.map(\.id)) == [admins.id, staff.id])
            await expectRPCError(.invalidArgument, "group_ids") {
                try await client.accountUsers.addAccountUserGroups(.init(accountUserId: member.id, groupIds: []))
            }
            await expectRPCError(.invalidArgument, "group_ids") {
                try await client.accountUsers.addAccountUserGroups(.init(accountUserId: member.id, groupIds: ["UGR-1"]))
            }
            await expectRPCError(.notFound) {
                try await client.accountUsers.addAccountUserGroups(.init(accountUserId: member.id, groupIds: [globexAdmins.id]))
            }
            await expectRPCError(.notFound, "AUSR-0000-0000-0000") {
                try await client.accountUsers.addAccountUserGroups(.init(accountUserId: "AUSR-0000-0000-0000", groupIds: [staff.id]))
            }
            _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: member.id))
            await expectRPCError(.failedPrecondition) {
                try await client.accountUsers.addAccountUserGroups(.init(accountUserId: member.id, groupIds: [admins.id]))
            }
        }
    }

    // contract: marketplace.users.v1.AccountUsers/RemoveAccountUserGroups INVALID_ARGUMENT NOT_FOUND FAILED_PRECONDITION
    @Test("RemoveAccountUserGroups: removes, ignores groups not held; the last group stays; refusals")
    func removeGroups() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups()
            let member = try #require(try await f.invite(acme, "ada@example.com", groups: [staff, admins]).accountUser)
            let removed = try #require(try await client.accountUsers.removeAccountUserGroups(
                .init(accountUserId: member.id, groupIds: [admins.id])).accountUser)
            #expect(removed.groups.map(\.id) == [staff.id])
            await expectRPCError(.failedPrecondition) {
                try await client.accountUsers.removeAccountUserGroups(.init(accountUserId: member.id, groupIds: [staff.id]))
            }
            await expectRPCError(.invalidArgument, "group_ids") {
                try await client.accountUsers.removeAccountUserGroups(.init(accountUserId: member.id, groupIds: []))
            }
            await expectRPCError(.notFound, "AUSR-0000-0000-0000") {
                try await client.accountUsers.removeAccountUserGroups(.init(accountUserId: "AUSR-0000-0000-0000", groupIds: [staff.id]))
            }
            let after = try #require(try await client.accountUsers.getAccountUser(.init(accountUserId: member.id)).accountUser)
            #expect(after.groups.map(\.id) == [staff.id])
            _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: member.id))
            await expectRPCError(.failedPrecondition) {
                try await client.accountUsers.removeAccountUserGroups(.init(accountUserId: member.id, groupIds: [admins.id]))
            }
        }
    }

    // contract: marketplace.users.v1.Sessions/WhoAmI UNAUTHENTICATED
    @Test("WhoAmI: operator by uid, user with session and current account; a bad token is UNAUTHENTICATED")
    func whoAmI() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let asOperator = try await client.sessions.whoAmI(.init())
            #expect(asOperator.kind == .operator && asOperator.peerUid == getuid() && asOperator.user == nil)
            let (member, options) = try await Conformance.signedIn(f, acme, "ada@example.com", groups: [staff])
            let asUser = try await client.sessions.whoAmI(.init(), options: options)
            #expect(asUser.kind == .user && asUser.user?.id == member.user?.id)
            #expect(asUser.currentAccount?.id == acme.id && asUser.session != nil)
            await expectRPCError(.unauthenticated) { try await client.sessions.whoAmI(.init(), options: Conformance.unknownSession) }
        }
    }

    // contract: marketplace.users.v1.Accounts/GetAccount PERMISSION_DENIED
    @Test("GetAccount: an administrator gets their current account, PERMISSION_DENIED for another (known or not) and for a plain member")
    func getAccountAsAdministrator() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups()
            let (globex, _, _) = try await f.accountWithGroups("Globex")
            let (_, admin) = try await Conformance.signedIn(f, acme, "ada@example.com", groups: [admins])
            let (_, plain) = try await Conformance.signedIn(f, acme, "bob@example.com", groups: [staff])
            #expect(try await client.accounts.getAccount(.init(accountId: acme.id), options: admin).account?.id == acme.id)
            await expectRPCError(.permissionDenied) { try await client.accounts.getAccount(.init(accountId: globex.id), options: admin) }
            await expectRPCError(.permissionDenied) { try await client.accounts.getAccount(.init(accountId: "ACC-0000-0000"), options: admin) }
            await expectRPCError(.permissionDenied) { try await client.accounts.getAccount(.init(accountId: acme.id), options: plain) }
        }
    }

    // contract: marketplace.users.v1.Profile/ChangePassword RESOURCE_EXHAUSTED
    @Test("ChangePassword: wrong current passwords count in the email's lockout; then even the right one is RESOURCE_EXHAUSTED")
    func changePasswordLockout() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let (_, ada) = try await Conformance.signedIn(f, acme, "ada@example.com", groups: [staff])
            var codes: [StatusCode] = []
            for _ in 0..<6 {
                do {
                    _ = try await client.profile.changePassword(
                        .init(currentPassword: "Wr0ng!password", newPassword: "N3w!password"), options: ada)
                } catch let error as RPCError {
                    codes.append(error.code)
                }
            }
            #expect(codes.prefix(5).allSatisfy { $0 == .unauthenticated }, "\(codes)")
            await expectRPCError(.resourceExhausted, "too many failed") {
                try await client.profile.changePassword(
                    .init(currentPassword: Conformance.password, newPassword: "N3w!password"), options: ada)
            }
            // Nothing changed: the old password is still the one (once the lock passes, it signs in).
            await expectRPCError(.resourceExhausted) {
                try await client.sessions.signIn(.init(email: "ada@example.com", password: "N3w!password"))
            }
        }
    }
}
