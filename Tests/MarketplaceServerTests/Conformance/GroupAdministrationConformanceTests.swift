import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// marketplace.users.v1.Groups: changing and deleting groups.
@Suite("Conformance: group administration")
struct GroupAdministrationConformanceTests {
    private func events(_ client: MarketplaceClient, _ account: Account, _ action: String) async throws -> [AuditEvent] {
        try await client.audit.listAuditEvents(.init(accountId: account.id, action: action)).events
    }

    // contract: marketplace.users.v1.Groups/UpdateGroup INVALID_ARGUMENT NOT_FOUND ALREADY_EXISTS
    @Test("UpdateGroup: the fields named (all three when none), audited once; refusals naming the field or the name taken")
    func updateGroup() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups("Acme")
            let renamed = try #require(try await client.groups.updateGroup(.init(groupId: staff.id, name: "  Buyers ", fields: ["name"])).group)
            #expect(renamed.name == "Buyers" && renamed.description == staff.description && renamed.permissions == staff.permissions)
            #expect(renamed.id == staff.id && renamed.accountId == acme.id && !renamed.isAdministrators && renamed.createdAt == staff.createdAt)
            // No fields: all three, so the permissions become exactly the list sent.
            let all = try #require(try await client.groups.updateGroup(.init(
                groupId: staff.id, name: "buyers", description: "Can order\nin the shop", permissions: ["orders.create", "orders.view"])).group)
            #expect(all.name == "buyers" && all.description == "Can order\nin the shop" && all.permissions == ["orders.create", "orders.view"])
            #expect(try await client.groups.getGroup(.init(groupId: staff.id)).group == all)
            // The same values again: nothing changes, no event.
            #expect(try await client.groups.updateGroup(.init(groupId: staff.id, name: "buyers", fields: ["name"])).group == all)
            let audited = try await events(client, acme, "group.updated")
            #expect(audited.count == 2 && audited.allSatisfy { $0.targetId == staff.id })
            #expect(audited.first?.details.contains("permissions") == true)

            await expectRPCError(.alreadyExists, "ADMINISTRATORS") {
                try await client.groups.updateGroup(.init(groupId: staff.id, name: "ADMINISTRATORS", fields: ["name"]))
            }
            await expectRPCError(.invalidArgument, "fields") {
                try await client.groups.updateGroup(.init(groupId: staff.id, name: "X", fields: ["is_administrators"]))
            }
            await expectRPCError(.invalidArgument, "name") { try await client.groups.updateGroup(.init(groupId: staff.id, name: " ", fields: ["name"])) }
            await expectRPCError(.invalidArgument, "name") {
                try await client.groups.updateGroup(.init(groupId: staff.id, name: String(repeating: "g", count: 101), fields: ["name"]))
            }
            await expectRPCError(.invalidArgument, "description") {
                try await client.groups.updateGroup(.init(groupId: staff.id, description: String(repeating: "d", count: 1001), fields: ["description"]))
            }
            await expectRPCError(.invalidArgument, "permissions[0]") {
                try await client.groups.updateGroup(.init(groupId: staff.id, permissions: [""], fields: ["permissions"]))
            }
            await expectRPCError(.invalidArgument, "group_id") { try await client.groups.updateGroup(.init(groupId: "UGR-1", name: "X")) }
            await expectRPCError(.notFound, "UGR-0000-0000") { try await client.groups.updateGroup(.init(groupId: "UGR-0000-0000", name: "X")) }
            // Refusals changed nothing.
            #expect(try await client.groups.getGroup(.init(groupId: staff.id)).group == all)
            #expect(try await client.groups.getGroup(.init(groupId: admins.id)).group == admins)
        }
    }

    // contract: marketplace.users.v1.Groups/UpdateGroup FAILED_PRECONDITION
    @Test("UpdateGroup: the administrators' group gains permissions but loses none")
    func administratorsPermissionsOnlyGrow() async throws {
        try await withUsersServer { _, client in
            let (_, admins, _) = try await Fixture(client: client).accountWithGroups("Acme")
            #expect(admins.permissions == ["users.manage"])
            let grown = try #require(try await client.groups.updateGroup(.init(
                groupId: admins.id, permissions: ["users.manage", "billing.view"], fields: ["permissions"])).group)
            #expect(grown.permissions == ["users.manage", "billing.view"] && grown.isAdministrators)
            await expectRPCError(.failedPrecondition, "billing.view") {
                try await client.groups.updateGroup(.init(groupId: admins.id, permissions: ["users.manage"], fields: ["permissions"]))
            }
            await expectRPCError(.failedPrecondition, "users.manage") {
                try await client.groups.updateGroup(.init(groupId: admins.id, name: "Admins", permissions: [], fields: []))
            }
            #expect(try await client.groups.getGroup(.init(groupId: admins.id)).group == grown)
            // Renaming it is fine.
            #expect(try await client.groups.updateGroup(.init(groupId: admins.id, name: "Admins", fields: ["name"])).group?.name == "Admins")
        }
    }

    @Test("UpdateGroup: members' rights follow at once; the change feed names the group")
    func permissionsTakeEffect() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups("Acme")
            _ = try await f.accept(try await f.invite(acme, "member@acme.example", groups: [staff]).invitationLink)
            let memberToken = try await client.sessions.signIn(.init(email: "member@acme.example", password: Conformance.password)).token
            #expect(try await client.access.checkAccess(.init(token: memberToken, permissions: ["orders.create"])).reason == .permissionMissing)
            let head = try await client.changes.listChanges(.init(fromHead: true)).position
            _ = try await client.groups.updateGroup(.init(groupId: staff.id, permissions: ["orders.create"], fields: ["permissions"]))
            #expect(try await client.access.checkAccess(.init(token: memberToken, permissions: ["orders.create"])).allowed)
            let changes = try await client.changes.listChanges(.init(afterPosition: head)).changes
            #expect(changes.map(\.kind) == [.groupPermissions] && changes.first?.groupId == staff.id)
            // A rename is no permission change.
            _ = try await client.groups.updateGroup(.init(groupId: staff.id, name: "Buyers", fields: ["name"]))
            #expect(try await client.changes.listChanges(.init(afterPosition: changes[0].position)).changes.isEmpty)
        }
    }

    // contract: marketplace.users.v1.Groups/DeleteGroup INVALID_ARGUMENT NOT_FOUND FAILED_PRECONDITION
    @Test("DeleteGroup: refused for the administrators' group and a member's only group; then members lose it")
    func deleteGroup() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups("Acme")
            let billing = try await f.group(acme, "Billing", admin: false)
            let ada = try #require(try await f.invite(acme, "ada@acme.example", groups: [staff]).accountUser)
            let bob = try await f.accept(try await f.invite(acme, "bob@acme.example", groups: [staff, billing]).invitationLink)
            // A removed (DISABLED) member counts too: re-inviting keeps a group.
            let cy = try #require(try await f.invite(acme, "cy@acme.example", groups: [staff]).accountUser)
            _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: cy.id))

            await expectRPCError(.failedPrecondition, "administrators") { try await client.groups.deleteGroup(.init(groupId: admins.id)) }
            await expectRPCError(.failedPrecondition, "only group of 2 members") { try await client.groups.deleteGroup(.init(groupId: staff.id)) }
            _ = try await client.accountUsers.addAccountUserGroups(.init(accountUserId: ada.id, groupIds: [billing.id]))
            await expectRPCError(.failedPrecondition, "only group of 1 member") { try await client.groups.deleteGroup(.init(groupId: staff.id)) }
            #expect(try await client.groups.getGroup(.init(groupId: staff.id)).group == staff)
            // A DELETED membership does not hold the group back.
            _ = try await client.users.deleteUser(.init(userId: try #require(cy.user).id))

            let head = try await client.changes.listChanges(.init(fromHead: true)).position
            _ = try await client.groups.deleteGroup(.init(groupId: staff.id))
            await expectRPCError(.notFound, staff.id) { try await client.groups.getGroup(.init(groupId: staff.id)) }
            await expectRPCError(.notFound, staff.id) { try await client.groups.deleteGroup(.init(groupId: staff.id)) }
            #expect(try await client.groups.listGroups(.init(accountId: acme.id)).groups.map(\.id) == [admins.id, billing.id])
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: ada.id)).accountUser?.groups.map(\.id) == [billing.id])
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: bob.id)).accountUser?.groups.map(\.id) == [billing.id])
            // Members who held it are named in the change feed.
            let changed = Set(try await client.changes.listChanges(.init(afterPosition: head)).changes.map(\.accountUserId))
            #expect(changed.isSuperset(of: [ada.id, bob.id]))
            let audited = try await events(client, acme, "group.deleted")
            #expect(audited.count == 1 && audited.first?.targetId == staff.id)

            await expectRPCError(.invalidArgument, "group_id") { try await client.groups.deleteGroup(.init(groupId: "UGR-12")) }
            await expectRPCError(.notFound, "UGR-0000-0000") { try await client.groups.deleteGroup(.init(groupId: "UGR-0000-0000")) }
        }
    }

    @Test("an administrator of one account cannot change or delete another account's groups: they answer like unknown ids")
    func crossTenant() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, acmeAdmins, acmeStaff) = try await f.accountWithGroups("Acme")
            let (globex, _, _) = try await f.accountWithGroups("Globex")
            let globexSpare = try await f.group(globex, "Spare", admin: false)
            let (_, admin) = try await Conformance.signedIn(f, acme, "admin@acme.example", groups: [acmeAdmins])

            for id in [globexSpare.id, "UGR-0000-0000"] {
                await expectRPCError(.notFound, "group \(id): not found") {
                    try await client.groups.updateGroup(.init(groupId: id, name: "Taken over", fields: ["name"]), options: admin)
                }
                await expectRPCError(.notFound, "group \(id): not found") { try await client.groups.deleteGroup(.init(groupId: id), options: admin) }
            }
            #expect(try await client.groups.getGroup(.init(groupId: globexSpare.id)).group == globexSpare)
            // Their own account's groups they may change and delete.
            #expect(try await client.groups.updateGroup(.init(groupId: acmeStaff.id, name: "Buyers", fields: ["name"]), options: admin).group?.name == "Buyers")
            _ = try await client.groups.deleteGroup(.init(groupId: acmeStaff.id), options: admin)
            #expect(try await client.groups.listGroups(.init(accountId: acme.id)).groups.map(\.id) == [acmeAdmins.id])
            #expect(try await events(client, acme, "group.deleted").first?.actor.hasPrefix("USR-") == true)
        }
    }
}
