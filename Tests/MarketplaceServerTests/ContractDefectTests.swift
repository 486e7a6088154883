import Foundation
import MarketplaceClient
import MarketplaceProtos
import MarketplaceDomain
import MarketplaceTestSupport
import Testing

/// The defects of issue 11: promises of Protos/ that the server did not keep,
/// each through the real client and server.
@Suite("Contract defects (issue 11)")
struct ContractDefectTests {
    // contract: marketplace.users.v1.Groups/CreateGroup ALREADY_EXISTS
    // contract: marketplace.users.v1.Groups/CreateGroup INVALID_ARGUMENT
    @Test("1: CreateGroup: names are unique within the account (ignoring case) and 1 to 100 characters")
    func groupNames() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, _) = try await f.accountWithGroups("Acme")
            let (globex, _, _) = try await f.accountWithGroups("Globex")
            await expectRPCError(.alreadyExists, "Staff") { try await f.group(acme, "Staff", admin: false) }
            await expectRPCError(.alreadyExists, "staff") { try await f.group(acme, " staff ", admin: false) }
            await expectRPCError(.invalidArgument, "name") { try await f.group(acme, String(repeating: "n", count: 101), admin: false) }
            await expectRPCError(.invalidArgument, "name") { try await f.group(acme, "", admin: false) }
            _ = try await f.group(acme, String(repeating: "n", count: 100), admin: false)
            _ = try await f.group(globex, "Billing", admin: false)
            _ = try await f.group(acme, "Billing", admin: false)  // another account's name is free
            let names = try await client.groups.listGroups(.init(accountId: acme.id, pageSize: 500)).groups.map(\.name)
            #expect(names.filter { $0.lowercased() == "staff" }.count == 1)
        }
    }

    // contract: marketplace.users.v1.Groups/ListGroups ORDER
    @Test("2: ListGroups is ordered by name (ignoring case), ties by id, across pages")
    func groupsByName() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let acme = try await f.account("Acme")
            for name in ["delta", "Alpha", "charlie", "Echo", "bravo"] {
                _ = try await f.group(acme, name, admin: false)
            }
            var names: [String] = []
            var pageToken = ""
            repeat {
                let page = try await client.groups.listGroups(.init(accountId: acme.id, pageSize: 2, pageToken: pageToken))
                names += page.groups.map(\.name)
                pageToken = page.nextPageToken
            } while !pageToken.isEmpty
            #expect(names == ["Alpha", "bravo", "charlie", "delta", "Echo"])
        }
    }

    // contract: marketplace.users.v1.AccountUser user
    @Test("3: the user inside an AccountUser is the same as GetUser's")
    func accountUserCarriesTheUser() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let invited = try await client.accountUsers.inviteUser(.init(
                accountId: acme.id, email: "ada@example.com", firstName: "Ada", lastName: "Lovelace",
                phone: "+44 20 7123 4567", groupIds: [staff.id]))
            let member = try #require(try await client.invitations.acceptInvitation(.init(
                token: token(of: invited.invitationLink), firstName: "Ada", lastName: "Lovelace", phone: "+44 20 7123 4567",
                password: "Str0ng!pass", acceptTerms: true)).accountUser)
            let userID = try #require(member.user?.id)
            let full = try #require(try await client.users.getUser(.init(userId: userID)).user)
            #expect(full.hasPassword && full.phone == "+442071234567" && full.createdAt != nil && !full.language.isEmpty)
            #expect(member.user == full)
            #expect(try await client.accountUsers.getAccountUser(.init(accountUserId: member.id)).accountUser?.user == full)
            let listed = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id)).accountUsers
            #expect(listed.first { $0.id == member.id }?.user == full)
        }
    }

    // contract: marketplace.users.v1.AccountUser invited_by
    // contract: marketplace.users.v1.InvitationView inviter_name
    @Test("4: invited_by is a user id or \"operator\"; an operator's invitation shows \"the platform operators\"")
    func invitedBy() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups()
            let byOperator = try await f.invite(acme, "ada@example.com", groups: [admins])
            #expect(byOperator.accountUser?.invitedBy == "operator")
            let view = try await client.invitations.showInvitation(.init(token: token(of: byOperator.invitationLink))).invitation
            #expect(view?.inviterName == "the platform operators")
            let admin = try await f.accept(byOperator.invitationLink)
            let session = try await client.sessions.signIn(.init(email: "ada@example.com", password: "Str0ng!pass")).token
            let byAdmin = try await client.accountUsers.inviteUser(
                .init(accountId: acme.id, email: "bob@example.com", firstName: "Bob", lastName: "Brown", groupIds: [staff.id]),
                options: .bearer(session))
            #expect(byAdmin.accountUser?.invitedBy == admin.user?.id)
            let adminView = try await client.invitations.showInvitation(.init(token: token(of: byAdmin.invitationLink))).invitation
            #expect(adminView?.inviterName == "Ada Lovelace")
        }
    }

    // contract: marketplace.users.v1.Invitations/ShowInvitation INVALID_ARGUMENT
    // contract: marketplace.users.v1.Invitations/ShowInvitation NOT_FOUND
    @Test("5: a malformed token is INVALID_ARGUMENT, a well-formed unknown one NOT_FOUND")
    func malformedTokens() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let t = token(of: try await f.invite(acme, "ada@example.com", groups: [staff]).invitationLink)
            for bad in ["has spaces in it", "inv_!!!", "", "ses_" + t.dropFirst(4), t + "A"] {
                await expectRPCError(.invalidArgument, "token") { try await client.invitations.showInvitation(.init(token: bad)) }
                await expectRPCError(.invalidArgument, "token") { try await client.invitations.declineInvitation(.init(token: bad)) }
                await expectRPCError(.invalidArgument, "token") {
                    try await client.invitations.acceptInvitation(.init(
                        token: bad, firstName: "A", lastName: "B", password: "Str0ng!pass", acceptTerms: true))
                }
            }
            await expectRPCError(.notFound) { try await client.invitations.showInvitation(.init(token: unknownToken(like: t))) }
            await expectRPCError(.notFound) { try await client.invitations.declineInvitation(.init(token: unknownToken(like: t))) }
        }
    }

    // contract: marketplace.users.v1.AccountUserSort ACCOUNT_USER_SORT_NAME
    // contract: marketplace.users.v1.AccountUserSort ACCOUNT_USER_SORT_UNSPECIFIED
    // contract: marketplace.users.v1.AccountUserSort ACCOUNT_USER_SORT_JOINED
    // contract: marketplace.users.v1.AccountUserSort ACCOUNT_USER_SORT_LAST_SIGN_IN
    @Test("6: NAME is last then first name; JOINED and LAST_SIGN_IN put the nevers last ascending, first descending")
    func sorts() async throws {
        let clock = ManualWallClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        try await withUsersServer(configure: { $0.clock = clock }) { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            // Joined in order: zoe (first), amy; bob never joins. Signs in: amy only.
            let zoe = try await f.invite(acme, "zoe@example.com", groups: [staff], first: "Zoe", last: "Adams")
            let amy = try await f.invite(acme, "amy@example.com", groups: [staff], first: "Amy", last: "Baker")
            let bob = try await f.invite(acme, "bob@example.com", groups: [staff], first: "Bob", last: "Adams")
            _ = try await client.invitations.acceptInvitation(.init(
                token: token(of: zoe.invitationLink), firstName: "Zoe", lastName: "Adams", password: "Str0ng!pass", acceptTerms: true))
            clock.advance(by: .seconds(60))
            _ = try await client.invitations.acceptInvitation(.init(
                token: token(of: amy.invitationLink), firstName: "Amy", lastName: "Baker", password: "Str0ng!pass", acceptTerms: true))
            clock.advance(by: .seconds(60))
            _ = try await client.sessions.signIn(.init(email: "amy@example.com", password: "Str0ng!pass"))
            func emails(_ sort: AccountUserSort, descending: Bool = false) async throws -> [String] {
                try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, sort: sort, descending: descending))
                    .accountUsers.compactMap { $0.user?.email }
            }
            // Adams Bob, Adams Zoe, Baker Amy.
            #expect(try await emails(.name) == ["bob@example.com", "zoe@example.com", "amy@example.com"])
            #expect(try await emails(.unspecified) == ["bob@example.com", "zoe@example.com", "amy@example.com"])
            #expect(try await emails(.name, descending: true) == ["amy@example.com", "zoe@example.com", "bob@example.com"])
            #expect(try await emails(.joined) == ["zoe@example.com", "amy@example.com", "bob@example.com"])
            #expect(try await emails(.joined, descending: true) == ["bob@example.com", "amy@example.com", "zoe@example.com"])
            let signIn = try await emails(.lastSignIn)
            #expect(signIn.first == "amy@example.com" && Set(signIn.dropFirst()) == ["zoe@example.com", "bob@example.com"])
            #expect(try await emails(.lastSignIn, descending: true).last == "amy@example.com")
            _ = bob
        }
    }

    // contract: marketplace.users.v1.AuditEvent actor
    @Test("8: AuditEvent.actor is a user id, operator:<uid>, or anonymous")
    func auditActors() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups()
            let admin = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [admins]).invitationLink)
            let session = try await client.sessions.signIn(.init(email: "ada@example.com", password: "Str0ng!pass")).token
            let bob = try await client.accountUsers.inviteUser(
                .init(accountId: acme.id, email: "bob@example.com", firstName: "Bob", lastName: "Brown", groupIds: [staff.id]),
                options: .bearer(session))
            _ = try await client.invitations.declineInvitation(.init(token: token(of: bob.invitationLink)))
            let actors = try await client.audit.listAuditEvents(.init(accountId: acme.id, pageSize: 500)).events.map(\.actor)
            #expect(actors.contains(try #require(admin.user?.id)))
            #expect(actors.contains("anonymous"))
            #expect(actors.contains("operator:\(getuid())"))
            for actor in actors {
                #expect(actor.wholeMatch(of: /USR-\d{4}-\d{4}|operator:\d+|anonymous/) != nil, "actor \(actor)")
            }
        }
    }

    // contract: marketplace.users.v1.OutboxMessage pending
    @Test("9: a pending email of an ended link is withdrawn: revoke, renew, remove, accept, decline, delete; block keeps")
    func outboxOfEndedLinks() async throws {
        let clock = ManualWallClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        try await withUsersServer(configure: { $0.clock = clock; $0.invitationTTL = .seconds(90) }) { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            func pending() async throws -> [MarketplaceProtos.OutboxMessage] {
                try await client.outbox.listPendingMessages(.init(limit: 500)).messages
            }
            // Revoke: the invitation and its reminder are withdrawn.
            let revoked = try #require(try await f.invite(acme, "rev@example.com", groups: [staff]).accountUser)
            _ = try await client.accountUsers.resendInvitation(.init(accountUserId: revoked.id))
            #expect(try await pending().filter { $0.accountUserId == revoked.id }.count == 2)
            _ = try await client.accountUsers.revokeInvitation(.init(accountUserId: revoked.id))
            #expect(try await pending().filter { $0.accountUserId == revoked.id }.isEmpty)

            // Accept and decline: the answered link's emails are withdrawn.
            let accepted = try await f.invite(acme, "acc@example.com", groups: [staff])
            let declined = try await f.invite(acme, "dec@example.com", groups: [staff])
            _ = try await f.accept(accepted.invitationLink)
            _ = try await client.invitations.declineInvitation(.init(token: token(of: declined.invitationLink)))
            let answered: Set<String> = [accepted.accountUser!.id, declined.accountUser!.id]
            #expect(try await pending().filter { answered.contains($0.accountUserId) }.isEmpty)

            // Block keeps what is pending (nothing of an accepted member carries a live link).
            let blocked = try await f.accept(try await f.invite(acme, "blk@example.com", groups: [staff]).invitationLink)
            _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: blocked.id))
            let again = try await f.invite(acme, "blk@example.com", groups: [staff])
            _ = try await f.accept(again.invitationLink)
            let beforeBlock = try await pending().filter { $0.accountUserId == blocked.id }.map(\.kind)
            #expect(beforeBlock == [.removal])
            _ = try await client.accountUsers.blockAccountUser(.init(accountUserId: blocked.id))
            #expect(try await pending().filter { $0.accountUserId == blocked.id }.map(\.kind) == beforeBlock)

            // Renew: the old link's emails are withdrawn, the new invitation is queued.
            let renewed = try #require(try await f.invite(acme, "ren@example.com", groups: [staff]).accountUser)
            clock.advance(by: .seconds(91))
            _ = try await client.accountUsers.renewInvitation(.init(accountUserId: renewed.id))
            #expect(try await pending().filter { $0.accountUserId == renewed.id }.map(\.kind) == [.newInvitation])

            // Remove: the pending invitation is withdrawn, the removal email queued.
            let removed = try #require(try await f.invite(acme, "rem@example.com", groups: [staff]).accountUser)
            _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: removed.id))
            #expect(try await pending().filter { $0.accountUserId == removed.id }.map(\.kind) == [.removal])

            // Delete: every pending email to the erased person is withdrawn.
            let deleted = try #require(try await f.invite(acme, "del@example.com", groups: [staff]).accountUser)
            _ = try await client.users.deleteUser(.init(userId: try #require(deleted.user?.id)))
            let left = try await pending()
            #expect(left.filter { $0.accountUserId == deleted.id }.isEmpty)
            #expect(!left.contains { $0.recipientEmail == "del@example.com" })
        }
    }
}

/// A well-formed invitation token that no invitation has: `t` with one
/// character of its random part changed.
func unknownToken(like t: String) -> String {
    var characters = Array(t)
    characters[10] = characters[10] == "A" ? "B" : "A"
    return String(characters)
}
