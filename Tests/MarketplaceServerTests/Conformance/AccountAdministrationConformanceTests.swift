import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// marketplace.users.v1.Accounts: renaming, disabling and re-enabling, and
/// what a disabled account means for its members.
@Suite("Conformance: account administration")
struct AccountAdministrationConformanceTests {
    private func events(_ client: MarketplaceClient, _ account: Account, _ action: String) async throws -> [AuditEvent] {
        try await client.audit.listAuditEvents(.init(accountId: account.id, action: action)).events
    }

    // contract: marketplace.users.v1.Accounts/RenameAccount INVALID_ARGUMENT NOT_FOUND
    @Test("RenameAccount: the new name, audited once; the same name changes nothing; refusals naming the field")
    func renameAccount() async throws {
        try await withUsersServer { _, client in
            let account = try await Fixture(client: client).account("Acme")
            let renamed = try #require(try await client.accounts.renameAccount(.init(accountId: account.id, name: "  Acme Group  ")).account)
            #expect(renamed.name == "Acme Group" && renamed.id == account.id && renamed.status == .active && renamed.type == account.type)
            #expect(try await client.accounts.getAccount(.init(accountId: account.id)).account == renamed)
            // Renaming to the name it has: no second event.
            #expect(try await client.accounts.renameAccount(.init(accountId: account.id, name: "Acme Group")).account == renamed)
            let audited = try await events(client, account, "account.renamed")
            #expect(audited.count == 1)
            #expect(audited.first?.targetId == account.id && audited.first?.actor.hasPrefix("operator:") == true)
            await expectRPCError(.invalidArgument, "name") { try await client.accounts.renameAccount(.init(accountId: account.id, name: " ")) }
            await expectRPCError(.invalidArgument, "name") {
                try await client.accounts.renameAccount(.init(accountId: account.id, name: String(repeating: "a", count: 201)))
            }
            await expectRPCError(.invalidArgument, "account_id") { try await client.accounts.renameAccount(.init(accountId: "ACC-1", name: "X")) }
            await expectRPCError(.notFound, "ACC-0000-0000") {
                try await client.accounts.renameAccount(.init(accountId: "ACC-0000-0000", name: "X"))
            }
            #expect(try await client.accounts.getAccount(.init(accountId: account.id)).account?.name == "Acme Group")
        }
    }

    // contract: marketplace.users.v1.Accounts/DisableAccount INVALID_ARGUMENT NOT_FOUND
    // contract: marketplace.users.v1.Accounts/EnableAccount INVALID_ARGUMENT NOT_FOUND
    @Test("DisableAccount / EnableAccount: the status, idempotent (one audit event and one change each way)")
    func disableAndEnable() async throws {
        try await withUsersServer { _, client in
            let account = try await Fixture(client: client).account("Acme")
            let head = try await client.changes.listChanges(.init(fromHead: true)).position
            let disabled = try #require(try await client.accounts.disableAccount(.init(accountId: account.id)).account)
            #expect(disabled.status == .disabled && disabled.name == account.name)
            #expect(try await client.accounts.disableAccount(.init(accountId: account.id)).account == disabled)
            #expect(try await client.accounts.getAccount(.init(accountId: account.id)).account?.status == .disabled)
            #expect(try await events(client, account, "account.disabled").count == 1)
            let enabled = try #require(try await client.accounts.enableAccount(.init(accountId: account.id)).account)
            #expect(enabled.status == .active)
            #expect(try await client.accounts.enableAccount(.init(accountId: account.id)).account == enabled)
            #expect(try await events(client, account, "account.enabled").count == 1)
            let changes = try await client.changes.listChanges(.init(afterPosition: head)).changes
            #expect(changes.map(\.kind) == [.accountStatus, .accountStatus])
            #expect(changes.allSatisfy { $0.accountId == account.id })
            for call in [
                { try await client.accounts.disableAccount(.init(accountId: "acme")).account },
                { try await client.accounts.enableAccount(.init(accountId: "acme")).account },
            ] as [@Sendable () async throws -> Account?] {
                await expectRPCError(.invalidArgument, "account_id") { try await call() }
            }
            await expectRPCError(.notFound, "ACC-0000-0000") { try await client.accounts.disableAccount(.init(accountId: "ACC-0000-0000")) }
            await expectRPCError(.notFound, "ACC-0000-0000") { try await client.accounts.enableAccount(.init(accountId: "ACC-0000-0000")) }
        }
    }

    // contract: marketplace.users.v1.Accounts/GetAccount FAILED_PRECONDITION
    // contract: marketplace.users.v1.Sessions/SwitchAccount FAILED_PRECONDITION
    // contract: marketplace.users.v1.Invitations/AcceptInvitation FAILED_PRECONDITION
    // contract: marketplace.users.v1.AccountUsers/InviteUser FAILED_PRECONDITION
    @Test("a disabled account: its administrators are refused, access checks deny, no invitation in or accepted, not current; enabling restores it")
    func disabledAccountForItsMembers() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups("Acme")
            let (globex, _, globexStaff) = try await f.accountWithGroups("Globex")
            // The administrator of Acme also joined Globex, and used Acme last.
            _ = try await f.accept(try await f.invite(acme, "admin@acme.example", groups: [admins]).invitationLink, password: Conformance.password)
            _ = try await f.accept(try await f.invite(globex, "admin@acme.example", groups: [globexStaff]).invitationLink, password: Conformance.password)
            let adminToken = try await client.sessions.signIn(.init(email: "admin@acme.example", password: Conformance.password)).token
            let admin = CallOptions.bearer(adminToken)
            _ = try await client.sessions.switchAccount(.init(accountId: globex.id), options: admin)
            _ = try await client.sessions.switchAccount(.init(accountId: acme.id), options: admin)
            let pending = try await f.invite(acme, "later@acme.example", groups: [staff])

            _ = try await client.accounts.disableAccount(.init(accountId: acme.id))

            await expectRPCError(.failedPrecondition, "disabled") { try await client.accounts.getAccount(.init(accountId: acme.id), options: admin) }
            await expectRPCError(.failedPrecondition, "disabled") { try await client.groups.listGroups(.init(accountId: acme.id), options: admin) }
            await expectRPCError(.failedPrecondition, "disabled") {
                try await client.accountUsers.listAccountUsers(.init(accountId: acme.id), options: admin)
            }
            await expectRPCError(.failedPrecondition, "disabled") {
                try await client.groups.updateGroup(.init(groupId: staff.id, name: "Renamed", fields: ["name"]), options: admin)
            }
            let check = try await client.access.checkAccess(.init(token: adminToken, accountId: acme.id))
            #expect(!check.allowed && check.reason == .accountDisabled)
            await expectRPCError(.failedPrecondition, "disabled") {
                try await f.invite(acme, "new@acme.example", groups: [staff])
            }
            await expectRPCError(.failedPrecondition, "disabled") {
                try await client.invitations.acceptInvitation(.init(
                    token: token(of: pending.invitationLink), firstName: "L", lastName: "Ater", password: Conformance.password, acceptTerms: true))
            }
            // A new sign-in does not land in the disabled account, though it was used last.
            let signedIn = try await client.sessions.signIn(.init(email: "admin@acme.example", password: Conformance.password))
            #expect(signedIn.session?.currentAccountId == globex.id)
            _ = try await client.sessions.switchAccount(.init(accountId: globex.id), options: admin)
            await expectRPCError(.failedPrecondition, "disabled") {
                try await client.sessions.switchAccount(.init(accountId: acme.id), options: admin)
            }
            // Operators still read it; nothing was lost.
            #expect(try await client.groups.listGroups(.init(accountId: acme.id)).groups.count == 2)

            _ = try await client.accounts.enableAccount(.init(accountId: acme.id))
            _ = try await client.sessions.switchAccount(.init(accountId: acme.id), options: admin)
            #expect(try await client.accountUsers.listAccountUsers(.init(accountId: acme.id), options: admin).accountUsers.count == 2)
            #expect(try await client.access.checkAccess(.init(token: adminToken, accountId: acme.id)).allowed)
            let joined = try await client.invitations.acceptInvitation(.init(
                token: token(of: pending.invitationLink), firstName: "L", lastName: "Ater", password: Conformance.password, acceptTerms: true))
            #expect(joined.accountUser?.status == .active)
        }
    }
}
