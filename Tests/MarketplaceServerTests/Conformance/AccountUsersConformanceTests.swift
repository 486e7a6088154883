import Foundation
import MarketplaceClient
import MarketplaceDomain
import MarketplaceTestSupport
import Testing

/// marketplace.users.v1.AccountUsers, promise by promise.
@Suite("Conformance: AccountUsers")
struct AccountUsersConformanceTests {
    // contract: marketplace.users.v1.AccountUsers/InviteUser INVALID_ARGUMENT NOT_FOUND ALREADY_EXISTS
    @Test("InviteUser: user, INVITED membership, 7-day link, email; every refusal names its field and changes nothing")
    func inviteUser() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups("Acme")
            let (_, _, foreign) = try await f.accountWithGroups("Globex")
            let invited = try await client.accountUsers.inviteUser(.init(
                accountId: acme.id, email: "Ada@Example.com", firstName: "Ada", lastName: "Lovelace",
                phone: "+44 (20) 7123-4567", groupIds: [staff.id, admins.id]))
            let member = try #require(invited.accountUser)
            #expect(member.id.wholeMatch(of: /AUSR-\d{4}-\d{4}-\d{4}/) != nil && member.accountId == acme.id)
            #expect(member.status == .invited && member.joinedAt == nil && member.blockedAt == nil && member.lastAccessAt == nil)
            #expect(member.user?.email == "ada@example.com" && member.user?.phone == "+442071234567" && member.user?.hasPassword == false)
            #expect(Set(member.groups.map(\.id)) == [staff.id, admins.id])
            let expires = try #require(member.invitationExpiresAt)
            #expect(abs(expires.timeIntervalSince(try #require(member.invitedAt)) - 7 * 86_400) < 1)
            #expect(invited.invitationLink.hasSuffix(token(of: invited.invitationLink)) && !invited.invitationLink.isEmpty)

            let refusals: [(StatusCode, String, InviteUserRequest)] = [
                (.invalidArgument, "email", .init(accountId: acme.id, email: "nope", firstName: "B", lastName: "B", groupIds: [staff.id])),
                (.invalidArgument, "first_name", .init(accountId: acme.id, email: "b@example.com", firstName: " ", lastName: "B", groupIds: [staff.id])),
                (.invalidArgument, "last_name", .init(accountId: acme.id, email: "b@example.com", firstName: "B", lastName: String(repeating: "b", count: 101), groupIds: [staff.id])),
                (.invalidArgument, "phone", .init(accountId: acme.id, email: "b@example.com", firstName: "B", lastName: "B", phone: "call me", groupIds: [staff.id])),
                (.invalidArgument, "group", .init(accountId: acme.id, email: "b@example.com", firstName: "B", lastName: "B", groupIds: [])),
                (.notFound, "group_ids[0]", .init(accountId: acme.id, email: "b@example.com", firstName: "B", lastName: "B", groupIds: [foreign.id])),
                (.notFound, "ACC-0000-0000", .init(accountId: "ACC-0000-0000", email: "b@example.com", firstName: "B", lastName: "B", groupIds: [staff.id])),
                (.notFound, "UGR-0000-0000", .init(accountId: acme.id, email: "b@example.com", firstName: "B", lastName: "B", groupIds: ["UGR-0000-0000"])),
                (.alreadyExists, "ada@example.com", .init(accountId: acme.id, email: "ADA@example.com", firstName: "A", lastName: "L", groupIds: [staff.id])),
            ]
            for (code, fragment, request) in refusals {
                await expectRPCError(code, fragment) { try await client.accountUsers.inviteUser(request) }
            }
            #expect(try await client.accountUsers.listAccountUsers(.init(accountId: acme.id)).accountUsers.count == 1)
            #expect(try await client.outbox.listPendingMessages(.init()).messages.count == 1)
            await expectRPCError(.notFound) { try await client.users.findUserByEmail(.init(email: "b@example.com")) }
        }
    }

    // contract: marketplace.users.v1.AccountUsers/InviteUser FAILED_PRECONDITION
    @Test("InviteUser: a disabled account cannot be invited into")
    func inviteIntoDisabledAccount() async throws {
        // No RPC disables an account yet: the test marks it disabled in the
        // stored database between two runs of the server.
        let directory = try TemporaryDirectory(prefix: "dis")
        defer { directory.remove() }
        let (acme, staff) = try await withUsersServer(in: directory) { _, client in
            let (acme, _, staff) = try await Fixture(client: client).accountWithGroups()
            return (acme, staff)
        }
        let storage = try await TestStorage.forDataDirectory(directory.appending("data"))
        try await execute("UPDATE accounts SET status = 'disabled' WHERE id = '\(acme.id)'", in: storage)
        try await withUsersServer(in: directory) { _, client in
            await expectRPCError(.failedPrecondition, "disabled") { try await Fixture(client: client).invite(acme, "ada@example.com", groups: [staff]) }
            let members = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id)).accountUsers
            #expect(members.isEmpty)
        }
    }

    // contract: marketplace.users.v1.AccountUsers/InviteUser
    @Test("InviteUser: a DISABLED membership (removed, declined, revoked) is invited again, same id; a never-used one starts afresh")
    func reinvite() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            // Ada has a login: removed, declined or revoked, her membership is DISABLED and invited again.
            let member = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [staff]).invitationLink)
            _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: member.id))
            let again = try await f.invite(acme, "ada@example.com", groups: [staff])
            #expect(again.accountUser?.id == member.id && again.accountUser?.status == .invited)
            _ = try await client.invitations.declineInvitation(.init(token: token(of: again.invitationLink)))
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: member.id)).accountUser?.status == .disabled)
            let third = try await f.invite(acme, "ada@example.com", groups: [staff])
            #expect(third.accountUser?.id == member.id && third.accountUser?.status == .invited)
            _ = try await client.accountUsers.revokeInvitation(.init(accountUserId: member.id))
            #expect(try await f.invite(acme, "ada@example.com", groups: [staff]).accountUser?.id == member.id)
            // Bob never had a login: declining deletes the user the invitation made, so inviting again starts afresh.
            let bob = try await f.invite(acme, "bob@example.com", groups: [staff])
            _ = try await client.invitations.declineInvitation(.init(token: token(of: bob.invitationLink)))
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: bob.accountUser!.id)).accountUser?.status == .deleted)
            let bobAgain = try await f.invite(acme, "bob@example.com", groups: [staff])
            #expect(bobAgain.accountUser?.id != bob.accountUser?.id && bobAgain.accountUser?.status == .invited)
        }
    }

    // contract: marketplace.users.v1.AccountUsers/ListAccountUsers ORDER INVALID_ARGUMENT NOT_FOUND
    // contract: marketplace.users.v1.AccountUserSort ACCOUNT_USER_SORT_EMAIL
    @Test("ListAccountUsers: filters by status, group and text; sorts with ties by id; page size and token refusals")
    func listAccountUsers() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups()
            let ada = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [admins], first: "Ada", last: "Lovelace").invitationLink)
            let bob = try #require(try await f.invite(acme, "bob@example.com", groups: [staff], first: "Bob", last: "Brown").accountUser)
            let cyLink = try await f.invite(acme, "cy@example.com", groups: [staff], first: "Cy", last: "Clay").invitationLink
            let cy = try #require(try await client.invitations.acceptInvitation(.init(
                token: token(of: cyLink), firstName: "Cy", lastName: "Clay", password: Conformance.password, acceptTerms: true)).accountUser)
            _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: cy.id))
            func ids(_ request: ListAccountUsersRequest) async throws -> [String] {
                try await client.accountUsers.listAccountUsers(request).accountUsers.map(\.id)
            }
            #expect(try await ids(.init(accountId: acme.id, statuses: [.active])) == [ada.id])
            #expect(try await ids(.init(accountId: acme.id, statuses: [.invited, .disabled], sort: .email)) == [bob.id, cy.id])
            #expect(try await ids(.init(accountId: acme.id, groupId: staff.id, sort: .email)) == [bob.id, cy.id])
            #expect(try await ids(.init(accountId: acme.id, query: "LOVE")) == [ada.id])
            #expect(try await ids(.init(accountId: acme.id, query: bob.id)) == [bob.id])
            let bobUserID = try #require(bob.user?.id)
            #expect(try await ids(.init(accountId: acme.id, query: bobUserID)) == [bob.id])
            #expect(try await ids(.init(accountId: acme.id, query: "cy@EXAMPLE")) == [cy.id])
            #expect(try await ids(.init(accountId: acme.id, sort: .email)) == [ada.id, bob.id, cy.id])
            #expect(try await ids(.init(accountId: acme.id, sort: .email, descending: true)) == [cy.id, bob.id, ada.id])
            // Ties (the same last and first name) are broken by id.
            var twins: [String] = []
            for i in 0..<3 {
                twins.append(try #require(try await f.invite(acme, "twin\(i)@example.com", groups: [staff], first: "Tom", last: "Twin").accountUser?.id))
            }
            #expect(try await ids(.init(accountId: acme.id, query: "twin", sort: .name)) == twins.sorted())
            #expect(try await ids(.init(accountId: acme.id, query: "twin", sort: .name, descending: true)) == twins.sorted().reversed())
            let page = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, sort: .email, pageSize: 2))
            #expect(page.accountUsers.map(\.id) == [ada.id, bob.id] && !page.nextPageToken.isEmpty)

            await expectRPCError(.invalidArgument, "account_id") { try await client.accountUsers.listAccountUsers(.init(accountId: "acme")) }
            await expectRPCError(.invalidArgument, "group_id") { try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, groupId: "staff")) }
            await expectRPCError(.invalidArgument, "page_size") { try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, pageSize: 501)) }
            await expectRPCError(.invalidArgument, "page_token") {
                try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, pageToken: "garbage"))
            }
            await expectRPCError(.invalidArgument, "page_token") {
                try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, sort: .joined, pageToken: page.nextPageToken))
            }
            await expectRPCError(.notFound) { try await client.accountUsers.listAccountUsers(.init(accountId: "ACC-0000-0000")) }
        }
    }

    // contract: marketplace.users.v1.AccountUsers/GetAccountUser INVALID_ARGUMENT NOT_FOUND
    @Test("GetAccountUser: the membership with its user and groups; refusals for malformed and unknown ids")
    func getAccountUser() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let member = try #require(try await f.invite(acme, "ada@example.com", groups: [staff]).accountUser)
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: member.id)).accountUser == member)
            await expectRPCError(.invalidArgument, "account_user_id") { try await client.accountUsers.getAccountUser(.init(accountUserId: "AUSR-1")) }
            await expectRPCError(.notFound) { try await client.accountUsers.getAccountUser(.init(accountUserId: "AUSR-0000-0000-0000")) }
        }
    }

    // contract: marketplace.users.v1.AccountUsers/UpdateAccountUserGroups INVALID_ARGUMENT NOT_FOUND FAILED_PRECONDITION
    @Test("UpdateAccountUserGroups: replaces the set; refusals for none, foreign, unknown, and DISABLED or DELETED")
    func updateGroups() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups("Acme")
            let (_, _, foreign) = try await f.accountWithGroups("Globex")
            let member = try #require(try await f.invite(acme, "ada@example.com", groups: [staff]).accountUser)
            let updated = try await client.accountUsers.updateAccountUserGroups(.init(accountUserId: member.id, groupIds: [admins.id]))
            #expect(updated.accountUser?.groups.map(\.id) == [admins.id])
            await expectRPCError(.invalidArgument, "group") {
                try await client.accountUsers.updateAccountUserGroups(.init(accountUserId: member.id, groupIds: []))
            }
            await expectRPCError(.notFound, foreign.id) {
                try await client.accountUsers.updateAccountUserGroups(.init(accountUserId: member.id, groupIds: [foreign.id]))
            }
            await expectRPCError(.notFound, "UGR-0000-0000") {
                try await client.accountUsers.updateAccountUserGroups(.init(accountUserId: member.id, groupIds: ["UGR-0000-0000"]))
            }
            await expectRPCError(.notFound) {
                try await client.accountUsers.updateAccountUserGroups(.init(accountUserId: "AUSR-0000-0000-0000", groupIds: [staff.id]))
            }
            // Revoked before Ada ever had a login: the membership is DELETED with the user it made.
            _ = try await client.accountUsers.revokeInvitation(.init(accountUserId: member.id))
            await expectRPCError(.failedPrecondition, "deleted") {
                try await client.accountUsers.updateAccountUserGroups(.init(accountUserId: member.id, groupIds: [staff.id]))
            }
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: member.id)).accountUser?.groups.map(\.id) == [admins.id])
        }
    }

    // contract: marketplace.users.v1.AccountUsers/RemoveAccountUser NOT_FOUND FAILED_PRECONDITION
    @Test("RemoveAccountUser: DISABLED, link stops working, removal email; other memberships untouched")
    func removeAccountUser() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups("Acme")
            let (globex, _, globexStaff) = try await f.accountWithGroups("Globex")
            let invited = try await f.invite(acme, "ada@example.com", groups: [staff])
            let member = try #require(invited.accountUser)
            let other = try await f.accept(try await f.invite(globex, "ada@example.com", groups: [globexStaff]).invitationLink)
            let removed = try await client.accountUsers.removeAccountUser(.init(accountUserId: member.id))
            #expect(removed.accountUser?.status == .disabled && removed.accountUser?.invitationExpiresAt == nil)
            #expect(try await client.invitations.showInvitation(.init(token: token(of: invited.invitationLink))).invitation?.state == .revoked)
            #expect(try await client.outbox.listPendingMessages(.init()).messages.last?.kind == .removal)
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: other.id)).accountUser?.status == .active)
            await expectRPCError(.failedPrecondition, "disabled") { try await client.accountUsers.removeAccountUser(.init(accountUserId: member.id)) }
            await expectRPCError(.notFound) { try await client.accountUsers.removeAccountUser(.init(accountUserId: "AUSR-0000-0000-0000")) }
        }
    }

    // contract: marketplace.users.v1.AccountUsers/GetInvitationLink NOT_FOUND FAILED_PRECONDITION
    // contract: marketplace.users.v1.AccountUsers/ResendInvitation NOT_FOUND FAILED_PRECONDITION
    // contract: marketplace.users.v1.AccountUsers/RenewInvitation NOT_FOUND FAILED_PRECONDITION
    @Test("Copy, resend and renew: the same link while valid; only an expired invitation is renewed")
    func copyResendRenew() async throws {
        let clock = ManualWallClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        try await withUsersServer(configure: { $0.clock = clock; $0.invitationTTL = .seconds(60) }) { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let invited = try await f.invite(acme, "ada@example.com", groups: [staff])
            let id = try #require(invited.accountUser?.id)
            let copied = try await client.accountUsers.getInvitationLink(.init(accountUserId: id))
            #expect(copied.invitationLink == invited.invitationLink && copied.expiresAt == invited.accountUser?.invitationExpiresAt)
            #expect(try await client.accountUsers.resendInvitation(.init(accountUserId: id)).accountUser?.status == .invited)
            #expect(try await client.outbox.listPendingMessages(.init()).messages.map(\.kind) == [.invitation, .invitationResent])
            await expectRPCError(.failedPrecondition, "still valid") { try await client.accountUsers.renewInvitation(.init(accountUserId: id)) }

            clock.advance(by: .seconds(61))
            await expectRPCError(.failedPrecondition, "expired") { try await client.accountUsers.getInvitationLink(.init(accountUserId: id)) }
            await expectRPCError(.failedPrecondition, "expired") { try await client.accountUsers.resendInvitation(.init(accountUserId: id)) }
            let renewed = try await client.accountUsers.renewInvitation(.init(accountUserId: id))
            #expect(renewed.invitationLink != invited.invitationLink && renewed.accountUser?.status == .invited)
            let expires = try #require(renewed.accountUser?.invitationExpiresAt)
            #expect(abs(expires.timeIntervalSince(clock.now()) - 60) < 1)
            #expect(try await client.invitations.showInvitation(.init(token: token(of: invited.invitationLink))).invitation?.state == .replaced)

            _ = try await f.accept(renewed.invitationLink)
            await expectRPCError(.failedPrecondition) { try await client.accountUsers.getInvitationLink(.init(accountUserId: id)) }
            await expectRPCError(.failedPrecondition) { try await client.accountUsers.resendInvitation(.init(accountUserId: id)) }
            await expectRPCError(.failedPrecondition) { try await client.accountUsers.renewInvitation(.init(accountUserId: id)) }
            let unknown = "AUSR-0000-0000-0000"
            await expectRPCError(.notFound) { try await client.accountUsers.getInvitationLink(.init(accountUserId: unknown)) }
            await expectRPCError(.notFound) { try await client.accountUsers.resendInvitation(.init(accountUserId: unknown)) }
            await expectRPCError(.notFound) { try await client.accountUsers.renewInvitation(.init(accountUserId: unknown)) }
        }
    }

    // contract: marketplace.users.v1.AccountUsers/RevokeInvitation NOT_FOUND FAILED_PRECONDITION
    @Test("RevokeInvitation: pending or expired become DISABLED (DELETED when the user never had a login) and the link says revoked; others refused")
    func revokeInvitation() async throws {
        let clock = ManualWallClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        try await withUsersServer(configure: { $0.clock = clock; $0.invitationTTL = .seconds(60) }) { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let pending = try await f.invite(acme, "ada@example.com", groups: [staff])
            let expired = try await f.invite(acme, "bob@example.com", groups: [staff])
            let active = try await f.accept(try await f.invite(acme, "cy@example.com", groups: [staff]).invitationLink)
            _ = try await client.accountUsers.revokeInvitation(.init(accountUserId: pending.accountUser!.id))
            #expect(try await client.invitations.showInvitation(.init(token: token(of: pending.invitationLink))).invitation?.state == .revoked)
            clock.advance(by: .seconds(61))
            let revoked = try await client.accountUsers.revokeInvitation(.init(accountUserId: expired.accountUser!.id))
            #expect(revoked.accountUser?.status == .deleted && revoked.accountUser?.invitationExpiresAt == nil)
            await expectRPCError(.failedPrecondition, "deleted") { try await client.accountUsers.revokeInvitation(.init(accountUserId: pending.accountUser!.id)) }
            // A person with a login elsewhere keeps it: the membership becomes DISABLED.
            let (globex, _, globexStaff) = try await f.accountWithGroups("Globex")
            _ = try await f.accept(try await f.invite(globex, "dan@example.com", groups: [globexStaff]).invitationLink)
            let dan = try #require(try await f.invite(acme, "dan@example.com", groups: [staff]).accountUser)
            #expect(try await client.accountUsers.revokeInvitation(.init(accountUserId: dan.id)).accountUser?.status == .disabled)
            await expectRPCError(.failedPrecondition, "disabled") { try await client.accountUsers.revokeInvitation(.init(accountUserId: dan.id)) }
            await expectRPCError(.failedPrecondition, "active") { try await client.accountUsers.revokeInvitation(.init(accountUserId: active.id)) }
            await expectRPCError(.notFound) { try await client.accountUsers.revokeInvitation(.init(accountUserId: "AUSR-0000-0000-0000")) }
        }
    }

    // contract: marketplace.users.v1.AccountUsers/BlockAccountUser NOT_FOUND FAILED_PRECONDITION
    // contract: marketplace.users.v1.AccountUsers/UnblockAccountUser NOT_FOUND FAILED_PRECONDITION
    @Test("Block and unblock: only ACTIVE is blocked, only BLOCKED unblocked; the reason goes to the audit trail")
    func blockAndUnblock() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let invited = try #require(try await f.invite(acme, "bob@example.com", groups: [staff]).accountUser)
            let active = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [staff]).invitationLink)
            await expectRPCError(.failedPrecondition, "invited") { try await client.accountUsers.blockAccountUser(.init(accountUserId: invited.id)) }
            await expectRPCError(.failedPrecondition, "active") { try await client.accountUsers.unblockAccountUser(.init(accountUserId: active.id)) }
            let blocked = try await client.accountUsers.blockAccountUser(.init(accountUserId: active.id, reason: "left the company"))
            #expect(blocked.accountUser?.status == .blocked && blocked.accountUser?.blockedAt != nil)
            #expect(try await client.audit.listAuditEvents(.init(accountId: acme.id, pageSize: 1)).events.first?.details.contains("left the company") == true)
            // Blocking a BLOCKED member changes nothing and answers it as it is.
            #expect(try await client.accountUsers.blockAccountUser(.init(accountUserId: active.id)).accountUser?.status == .blocked)
            let unblocked = try await client.accountUsers.unblockAccountUser(.init(accountUserId: active.id))
            #expect(unblocked.accountUser?.status == .active && unblocked.accountUser?.blockedAt == nil)
            await expectRPCError(.notFound) { try await client.accountUsers.blockAccountUser(.init(accountUserId: "AUSR-0000-0000-0000")) }
            await expectRPCError(.notFound) { try await client.accountUsers.unblockAccountUser(.init(accountUserId: "AUSR-0000-0000-0000")) }
        }
    }
}
