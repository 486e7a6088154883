import Foundation
import MarketplaceClient
@testable import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// The ids one call targets: an account, a membership and a group.
private struct Targets: Sendable {
    let account: String, accountUser: String, group: String

    /// Well-formed ids that name nothing.
    static let unknown = Targets(account: "ACC-0000-0000", accountUser: "AUSR-0000-0000-0000", group: "UGR-0000-0000")

    var all: [String] { [account, accountUser, group] }
}

private typealias AdminCall = @Sendable (MarketplaceClient, CallOptions, Targets) async throws -> Void

/// One call of every account administrator's method, aimed at `Targets`; the
/// test requires one for every such method of the generated access table.
private let adminCalls: [String: AdminCall] = [
    "Accounts/GetAccount": { c, o, t in _ = try await c.accounts.getAccount(.init(accountId: t.account), options: o) },
    "Groups/CreateGroup": { c, o, t in _ = try await c.groups.createGroup(.init(accountId: t.account, name: "Probe"), options: o) },
    "Groups/GetGroup": { c, o, t in _ = try await c.groups.getGroup(.init(groupId: t.group), options: o) },
    "Groups/ListGroups": { c, o, t in _ = try await c.groups.listGroups(.init(accountId: t.account), options: o) },
    "Groups/UpdateGroup": { c, o, t in _ = try await c.groups.updateGroup(.init(groupId: t.group, name: "Probe", fields: ["name"]), options: o) },
    "Groups/DeleteGroup": { c, o, t in _ = try await c.groups.deleteGroup(.init(groupId: t.group), options: o) },
    "AccountUsers/InviteUser": { c, o, t in
        _ = try await c.accountUsers.inviteUser(
            .init(accountId: t.account, email: "probe@example.com", firstName: "P", lastName: "R", groupIds: [t.group]), options: o)
    },
    "AccountUsers/ListAccountUsers": { c, o, t in _ = try await c.accountUsers.listAccountUsers(.init(accountId: t.account), options: o) },
    "AccountUsers/GetAccountUser": { c, o, t in _ = try await c.accountUsers.getAccountUser(.init(accountUserId: t.accountUser), options: o) },
    "AccountUsers/UpdateAccountUserGroups": { c, o, t in
        _ = try await c.accountUsers.updateAccountUserGroups(.init(accountUserId: t.accountUser, groupIds: [t.group]), options: o)
    },
    "AccountUsers/AddAccountUserGroups": { c, o, t in
        _ = try await c.accountUsers.addAccountUserGroups(.init(accountUserId: t.accountUser, groupIds: [t.group]), options: o)
    },
    "AccountUsers/RemoveAccountUserGroups": { c, o, t in
        _ = try await c.accountUsers.removeAccountUserGroups(.init(accountUserId: t.accountUser, groupIds: [t.group]), options: o)
    },
    "AccountUsers/RemoveAccountUser": { c, o, t in _ = try await c.accountUsers.removeAccountUser(.init(accountUserId: t.accountUser), options: o) },
    "AccountUsers/GetInvitationLink": { c, o, t in _ = try await c.accountUsers.getInvitationLink(.init(accountUserId: t.accountUser), options: o) },
    "AccountUsers/ResendInvitation": { c, o, t in _ = try await c.accountUsers.resendInvitation(.init(accountUserId: t.accountUser), options: o) },
    "AccountUsers/RenewInvitation": { c, o, t in _ = try await c.accountUsers.renewInvitation(.init(accountUserId: t.accountUser), options: o) },
    "AccountUsers/RevokeInvitation": { c, o, t in _ = try await c.accountUsers.revokeInvitation(.init(accountUserId: t.accountUser), options: o) },
    "AccountUsers/BlockAccountUser": { c, o, t in _ = try await c.accountUsers.blockAccountUser(.init(accountUserId: t.accountUser), options: o) },
    "AccountUsers/UnblockAccountUser": { c, o, t in _ = try await c.accountUsers.unblockAccountUser(.init(accountUserId: t.accountUser), options: o) },
    "Audit/ListAuditEvents": { c, o, t in _ = try await c.audit.listAuditEvents(.init(accountId: t.account), options: o) },
]

/// What a call answered: OK, or its code and its message with the targeted
/// ids replaced by placeholders (so answers about different ids compare).
private func answer(_ targets: Targets, _ call: () async throws -> Void) async -> String {
    do {
        try await call()
        return "OK"
    } catch let error as RPCError {
        var message = error.message
        for (id, placeholder) in zip(targets.all, ["<account>", "<account_user>", "<group>"]) {
            message = message.replacingOccurrences(of: id, with: placeholder)
        }
        return "\(error.code.name): \(message)"
    } catch {
        return "unexpected: \(error)"
    }
}

@Suite("Another tenant's ids answer exactly what unknown ids answer")
struct CrossTenantTests {
    @Test("every account administrator's method of the generated table, aimed at account B by an administrator of A")
    func foreignIDsLookUnknown() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let password = "Str0ng!pass"
            let (a, aAdmins, aStaff) = try await f.accountWithGroups("A")
            let (b, _, bStaff) = try await f.accountWithGroups("B")
            _ = try await f.accept(try await f.invite(a, "admin@a.example", groups: [aAdmins]).invitationLink, password: password)
            let bMember = try #require(try await f.invite(b, "member@b.example", groups: [bStaff]).accountUser)
            let admin = CallOptions.bearer(try await client.sessions.signIn(.init(email: "admin@a.example", password: password)).token)
            let foreign = Targets(account: b.id, accountUser: bMember.id, group: bStaff.id)
            let auditBefore = try await client.audit.listAuditEvents(.init(accountId: b.id)).events.count

            let administrators = AccessPolicy.standard.methods.filter {
                if case .accountAdministrator = $0.rule { return true }
                return false
            }
            #expect(administrators.count == adminCalls.count)
            for entry in administrators {
                let method = String(entry.name.split(separator: ".").last ?? "")
                let call = try #require(adminCalls[method], "\(entry.name) needs a call in CrossTenantTests.adminCalls")
                let unknown = await answer(.unknown) { try await call(client, admin, .unknown) }
                let elsewhere = await answer(foreign) { try await call(client, admin, foreign) }
                #expect(elsewhere == unknown, "\(method): another tenant's ids answer \"\(elsewhere)\", unknown ids \"\(unknown)\"")
                #expect(elsewhere != "OK", "\(method) succeeded on another tenant's ids")
            }

            // Nothing of B changed.
            #expect(try await client.audit.listAuditEvents(.init(accountId: b.id)).events.count == auditBefore)
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: bMember.id)).accountUser == bMember)

            // A group of B named in group_ids answers like an unknown group, in A's own calls too.
            let aTarget = try #require(try await f.invite(a, "target@a.example", groups: [aStaff]).accountUser)
            let groupCalls: [(String, @Sendable (String) async throws -> Void)] = [
                ("AccountUsers/InviteUser", { group in
                    _ = try await client.accountUsers.inviteUser(
                        .init(accountId: a.id, email: "probe@example.com", firstName: "P", lastName: "R", groupIds: [group]), options: admin)
                }),
                ("AccountUsers/UpdateAccountUserGroups", { group in
                    _ = try await client.accountUsers.updateAccountUserGroups(.init(accountUserId: aTarget.id, groupIds: [group]), options: admin)
                }),
                ("AccountUsers/AddAccountUserGroups", { group in
                    _ = try await client.accountUsers.addAccountUserGroups(.init(accountUserId: aTarget.id, groupIds: [group]), options: admin)
                }),
            ]
            for (method, call) in groupCalls {
                let unknown = await answer(.unknown) { try await call(Targets.unknown.group) }
                let elsewhere = await answer(foreign) { try await call(bStaff.id) }
                #expect(elsewhere == unknown, "\(method) group_ids: another tenant's group answers \"\(elsewhere)\", an unknown group \"\(unknown)\"")
            }
        }
    }
}
