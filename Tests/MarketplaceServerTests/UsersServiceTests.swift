import Foundation
import MarketplaceClient
import MarketplaceDomain
import MarketplaceTestSupport
import Testing

/// Every operation of the users services through the real client and server.
@Suite("Users services over the socket")
struct UsersServiceTests {
    @Test("accounts: create, get, list; refusals name the field")
    func accounts() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let acme = try await f.account("Acme", type: .vendor)
            #expect(acme.id.wholeMatch(of: /ACC-\d{4}-\d{4}/) != nil)
            #expect(acme.type == .vendor && acme.status == .active)
            #expect(try await client.accounts.getAccount(.init(accountId: acme.id)).account == acme)
            _ = try await f.account("Globex")
            let page = try await client.accounts.listAccounts(.init(pageSize: 1))
            #expect(page.accounts.count == 1)
            let rest = try await client.accounts.listAccounts(.init(pageSize: 1, pageToken: page.nextPageToken))
            #expect(rest.accounts.count == 1 && rest.accounts[0].id != page.accounts[0].id)

            await expectRPCError(.invalidArgument, "type") { try await client.accounts.createAccount(.init(name: "X")) }
            await expectRPCError(.invalidArgument, "name") { try await client.accounts.createAccount(.init(name: " ", type: .client)) }
            await expectRPCError(.notFound) { try await client.accounts.getAccount(.init(accountId: "ACC-0000-0000")) }
            await expectRPCError(.invalidArgument, "account_id") { try await client.accounts.getAccount(.init(accountId: "nope")) }
            await expectRPCError(.invalidArgument, "page_size") { try await client.accounts.listAccounts(.init(pageSize: 501)) }
        }
    }

    @Test("groups: one administrators' group per account, list, get")
    func groups() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups()
            #expect(admins.isAdministrators && !staff.isAdministrators)
            #expect(try await client.groups.getGroup(.init(groupId: staff.id)).group == staff)
            let list = try await client.groups.listGroups(.init(accountId: acme.id))
            #expect(Set(list.groups.map(\.id)) == [admins.id, staff.id])
            await expectRPCError(.alreadyExists) { try await f.group(acme, "Second admins", admin: true) }
            await expectRPCError(.notFound) { try await client.groups.createGroup(.init(accountId: "ACC-0000-0000", name: "G")) }
        }
    }

    @Test("invite returns the membership and a link; the outbox and audit trail record it")
    func invite() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let invited = try await f.invite(acme, "Ada@Example.com", groups: [staff])
            let member = try #require(invited.accountUser)
            #expect(member.id.wholeMatch(of: /AUSR-\d{4}-\d{4}-\d{4}/) != nil)
            #expect(member.status == .invited)
            #expect(member.user?.email == "ada@example.com")
            #expect(member.groups.map(\.id) == [staff.id])
            #expect(invited.invitationLink.hasPrefix("https://marketplace.example/invitations/"))
            #expect(token(of: invited.invitationLink).count >= 22)
            let expires = try #require(member.invitationExpiresAt)
            #expect(abs(expires.timeIntervalSince(member.invitedAt!) - 7 * 86_400) < 1)

            let outbox = try await client.outbox.listPendingMessages(.init())
            let mail = try #require(outbox.messages.first)
            #expect(mail.kind == .invitation && mail.recipientEmail == "ada@example.com")
            #expect(mail.body.contains(invited.invitationLink))
            #expect(try await client.outbox.markMessagesSent(.init(messageIds: [mail.id])).marked == 1)
            #expect(try await client.outbox.listPendingMessages(.init()).messages.isEmpty)

            let audit = try await client.audit.listAuditEvents(.init(accountId: acme.id))
            #expect(audit.events.first?.action == "account_user.invited")
            #expect(audit.events.first?.targetId == member.id)
        }
    }

    @Test("invite refusals: duplicate, no groups, foreign group, bad email, unknown account; nothing changes")
    func inviteRefusals() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups("Acme")
            let (_, _, otherStaff) = try await f.accountWithGroups("Globex")
            _ = try await f.invite(acme, "ada@example.com", groups: [staff])
            await expectRPCError(.alreadyExists) { try await f.invite(acme, "ADA@example.com", groups: [staff]) }
            await expectRPCError(.invalidArgument, "group") { try await f.invite(acme, "bob@example.com", groups: []) }
            // Another account's group answers like an unknown group.
            await expectRPCError(.notFound, "group_ids[0]: group \(otherStaff.id) not found in account \(acme.id)") {
                try await f.invite(acme, "bob@example.com", groups: [otherStaff])
            }
            await expectRPCError(.invalidArgument, "email") { try await f.invite(acme, "not-an-email", groups: [staff]) }
            await expectRPCError(.notFound) {
                try await client.accountUsers.inviteUser(.init(
                    accountId: "ACC-0000-0000", email: "x@example.com", firstName: "X", lastName: "Y", groupIds: [staff.id]))
            }
            let members = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id))
            #expect(members.accountUsers.count == 1)
            #expect(try await client.outbox.listPendingMessages(.init()).messages.count == 1)
            await expectRPCError(.notFound) { try await client.users.findUserByEmail(.init(email: "bob@example.com")) }
        }
    }

    @Test("the invitee opens, accepts with a password meeting the rule, and becomes active")
    func acceptFlow() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let invited = try await f.invite(acme, "ada@example.com", groups: [staff])
            let t = token(of: invited.invitationLink)

            let view = try #require(try await client.invitations.showInvitation(.init(token: t)).invitation)
            #expect(view.accountId == acme.id && view.accountName == "Acme")
            #expect(view.email == "ada@example.com" && view.state == .pending && !view.hasLogin)

            await expectRPCError(.invalidArgument, "uppercase") {
                try await client.invitations.acceptInvitation(.init(
                    token: t, firstName: "Ada", lastName: "L", password: "weakpass1!", acceptTerms: true))
            }
            await expectRPCError(.invalidArgument, "terms") {
                try await client.invitations.acceptInvitation(.init(
                    token: t, firstName: "Ada", lastName: "L", password: "Str0ng!pass", acceptTerms: false))
            }
            let member = try await f.accept(invited.invitationLink)
            #expect(member.status == .active && member.joinedAt != nil)
            #expect(try await client.invitations.showInvitation(.init(token: t)).invitation?.state == .accepted)
            await expectRPCError(.failedPrecondition, "accepted") { try await f.accept(invited.invitationLink) }
            let user = try #require(try await client.users.findUserByEmail(.init(email: "ada@example.com")).user)
            #expect(user.hasPassword)
            await expectRPCError(.notFound) { try await client.invitations.showInvitation(.init(token: "x" + t.dropFirst())) }
        }
    }

    @Test("two concurrent accepts of one link: exactly one succeeds")
    func concurrentAccepts() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let link = try await f.invite(acme, "ada@example.com", groups: [staff]).invitationLink
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 {
                    group.addTask { (try? await f.accept(link)) != nil }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
        }
    }

    @Test("expiry is a fact of time: copy and resend refuse, renew issues a new link and kills the old")
    func expiryAndRenew() async throws {
        let clock = ManualWallClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        try await withUsersServer(configure: { $0.clock = clock; $0.invitationTTL = .seconds(90) }) { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let invited = try await f.invite(acme, "ada@example.com", groups: [staff])
            let id = try #require(invited.accountUser).id
            await expectRPCError(.failedPrecondition, "still valid") { try await client.accountUsers.renewInvitation(.init(accountUserId: id)) }
            #expect(try await client.accountUsers.getInvitationLink(.init(accountUserId: id)).invitationLink == invited.invitationLink)
            _ = try await client.accountUsers.resendInvitation(.init(accountUserId: id))

            clock.advance(by: .seconds(91))
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: id)).accountUser?.status == .invitationExpired)
            await expectRPCError(.failedPrecondition, "expired") { try await client.accountUsers.getInvitationLink(.init(accountUserId: id)) }
            await expectRPCError(.failedPrecondition, "expired") { try await client.accountUsers.resendInvitation(.init(accountUserId: id)) }
            await expectRPCError(.failedPrecondition) { try await f.accept(invited.invitationLink) }
            #expect(try await client.invitations.showInvitation(.init(token: token(of: invited.invitationLink))).invitation?.state == .expired)

            let renewed = try await client.accountUsers.renewInvitation(.init(accountUserId: id))
            #expect(renewed.invitationLink != invited.invitationLink)
            #expect(renewed.accountUser?.status == .invited)
            #expect(try await client.invitations.showInvitation(.init(token: token(of: invited.invitationLink))).invitation?.state == .replaced)
            let kinds = try await client.outbox.listPendingMessages(.init()).messages.map(\.kind)
            #expect(kinds == [.invitation, .invitationResent, .newInvitation])
            #expect(try await f.accept(renewed.invitationLink).status == .active)
        }
    }

    @Test("edit groups keeps at least one; remove disables; re-invite and accept again with the existing login")
    func editRemoveReinvite() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups()
            let link = try await f.invite(acme, "ada@example.com", groups: [staff]).invitationLink
            let member = try await f.accept(link)

            let both = try await client.accountUsers.updateAccountUserGroups(.init(accountUserId: member.id, groupIds: [staff.id, admins.id]))
            #expect(Set(both.accountUser?.groups.map(\.id) ?? []) == [staff.id, admins.id])
            await expectRPCError(.invalidArgument) {
                try await client.accountUsers.updateAccountUserGroups(.init(accountUserId: member.id, groupIds: []))
            }

            let removed = try await client.accountUsers.removeAccountUser(.init(accountUserId: member.id))
            #expect(removed.accountUser?.status == .disabled)
            await expectRPCError(.failedPrecondition) { try await client.accountUsers.removeAccountUser(.init(accountUserId: member.id)) }
            #expect(try await client.outbox.listPendingMessages(.init()).messages.last?.kind == .removal)
            #expect(try await client.users.findUserByEmail(.init(email: "ada@example.com")).user?.status == .active)

            let again = try await f.invite(acme, "ada@example.com", groups: [staff])
            #expect(again.accountUser?.id == member.id)
            #expect(try await client.invitations.showInvitation(.init(token: token(of: again.invitationLink))).invitation?.hasLogin == true)
            await expectRPCError(.unauthenticated) { try await f.accept(again.invitationLink, password: "Wr0ng!password") }
            #expect(try await f.accept(again.invitationLink).status == .active)
        }
    }

    @Test("a user in two accounts; removal from one leaves the other")
    func twoAccounts() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, acmeStaff) = try await f.accountWithGroups("Acme")
            let (globex, _, globexStaff) = try await f.accountWithGroups("Globex")
            let a = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [acmeStaff]).invitationLink)
            let g = try await f.accept(try await f.invite(globex, "ada@example.com", groups: [globexStaff]).invitationLink)
            #expect(a.user?.id == g.user?.id)
            _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: a.id))
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: g.id)).accountUser?.status == .active)
        }
    }

    @Test("revoke, decline, block and unblock follow the state rules")
    func revokeDeclineBlock() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let pending = try await f.invite(acme, "bob@example.com", groups: [staff])
            let revoked = try await client.accountUsers.revokeInvitation(.init(accountUserId: pending.accountUser!.id))
            #expect(revoked.accountUser?.status == .disabled)
            #expect(try await client.invitations.showInvitation(.init(token: token(of: pending.invitationLink))).invitation?.state == .revoked)

            let declined = try await f.invite(acme, "carol@example.com", groups: [staff])
            let view = try await client.invitations.declineInvitation(.init(token: token(of: declined.invitationLink)))
            #expect(view.invitation?.state == .declined)
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: declined.accountUser!.id)).accountUser?.status == .disabled)

            let active = try await f.accept(try await f.invite(acme, "dan@example.com", groups: [staff]).invitationLink)
            await expectRPCError(.failedPrecondition) { try await client.accountUsers.unblockAccountUser(.init(accountUserId: active.id)) }
            let blocked = try await client.accountUsers.blockAccountUser(.init(accountUserId: active.id, reason: "terms violation"))
            #expect(blocked.accountUser?.status == .blocked && blocked.accountUser?.blockedAt != nil)
            let audit = try await client.audit.listAuditEvents(.init(accountId: acme.id, pageSize: 1))
            #expect(audit.events.first?.action == "account_user.blocked")
            #expect(audit.events.first?.details.contains("terms violation") == true)
            #expect(try await client.accountUsers.unblockAccountUser(.init(accountUserId: active.id)).accountUser?.status == .active)
        }
    }

    @Test("delete a user: data erased, memberships deleted, email free again")
    func deleteUser() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let member = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [staff]).invitationLink)
            let userID = try #require(member.user?.id)
            let deleted = try #require(try await client.users.deleteUser(.init(userId: userID)).user)
            #expect(deleted.status == .deleted && deleted.firstName.isEmpty && deleted.email != "ada@example.com")
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: member.id)).accountUser?.status == .deleted)
            await expectRPCError(.failedPrecondition) { try await client.users.deleteUser(.init(userId: userID)) }
            let fresh = try await f.invite(acme, "ada@example.com", groups: [staff])
            #expect(fresh.accountUser?.user?.id != userID)
        }
    }

    @Test("list: filter by status, group and text; sort; stable pages while members are added")
    func listing() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups()
            for i in 0..<30 {
                _ = try await f.invite(acme, "user\(i)@example.com", groups: [i % 3 == 0 ? admins : staff], first: "U\(i)", last: "Zed\(i)")
            }
            _ = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [staff]).invitationLink)

            let active = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, statuses: [.active]))
            #expect(active.accountUsers.map { $0.user?.email } == ["ada@example.com"])
            let inAdmins = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, groupId: admins.id, pageSize: 100))
            #expect(inAdmins.accountUsers.count == 10)
            let text = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, query: "USER1"))
            #expect(Set(text.accountUsers.compactMap { $0.user?.email }) == Set(["user1@example.com"] + (10...19).map { "user\($0)@example.com" }))
            let byEmail = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, sort: .email, descending: true, pageSize: 3))
            #expect(byEmail.accountUsers.compactMap { $0.user?.email } == ["user9@example.com", "user8@example.com", "user7@example.com"])

            var seen: [String] = []
            var pageToken = ""
            var added = 0
            repeat {
                let page = try await client.accountUsers.listAccountUsers(
                    .init(accountId: acme.id, sort: .email, pageSize: 7, pageToken: pageToken))
                seen += page.accountUsers.map(\.id)
                pageToken = page.nextPageToken
                // Members added behind and ahead of the cursor while paging.
                _ = try await f.invite(acme, "aaa\(added)@example.com", groups: [staff])
                _ = try await f.invite(acme, "zzz\(added)@example.com", groups: [staff])
                added += 1
            } while !pageToken.isEmpty
            #expect(Set(seen).count == seen.count, "duplicates across pages")
            let original = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, pageSize: 500)).accountUsers
                .filter { !($0.user?.email.hasPrefix("aaa") ?? false) && !($0.user?.email.hasPrefix("zzz") ?? false) }
            #expect(Set(original.map(\.id)).isSubset(of: Set(seen)), "gaps across pages")
            await expectRPCError(.invalidArgument, "page_token") {
                try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, pageToken: "garbage"))
            }
        }
    }
}
