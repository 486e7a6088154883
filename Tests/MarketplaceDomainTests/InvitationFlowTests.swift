import Foundation
import MarketplaceDomain
import MarketplaceSQLite
import Testing

@Suite struct InvitationFlowTests {
    static let password = "Correct-Horse-9"

    @Test func inviteCreatesUserMembershipInvitationAuditAndOutbox() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            let invited = try await f.directory.invite(
                accountID: account.id, email: " Jane@Example.com ", firstName: "Jane", lastName: "Doe", phone: "+33 612345678",
                groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            let member = invited.accountUser
            #expect(member.status == .invited && member.groups == [GroupSummary(id: staff.id, name: "Staff")])
            #expect(member.invitationExpiresAt == f.clock.now().addingTimeInterval(7 * 86_400))
            #expect(invited.link.hasPrefix("https://marketplace.example/invitations/"))
            #expect(Fixture.token(of: invited.link).count == 47)  // "inv_" + 43 base64url characters
            let user = try await f.directory.user(email: "JANE@example.com")
            #expect(user.email == "jane@example.com" && !user.hasPassword && user.phone == "+33612345678")
            #expect(try await f.directory.accountUser(id: member.id, access: Fixture.operatorAccess) == member)
            let outbox = try await f.directory.pendingOutboxMessages()
            #expect(outbox.count == 1 && outbox[0].kind == .invitation && outbox[0].recipient == "jane@example.com")
            #expect(outbox[0].body.contains(invited.link))
            let audit = try await f.directory.auditTrail(accountID: account.id, access: Fixture.operatorAccess)
            #expect(audit.items.first?.action == .userInvited && audit.items.first?.actor == "operator:uid=0")
            #expect(try await f.directory.invitationLink(accountUserID: member.id, access: Fixture.operatorAccess).link == invited.link)
            let view = try await f.directory.showInvitation(token: Fixture.token(of: invited.link))
            #expect(view.accountName == "Acme" && view.email == "jane@example.com" && view.state == .pending)
            #expect(view.inviterName == "Marketplace Operations")
            #expect(try await f.directory.markOutboxMessagesSent(ids: outbox.map(\.id)) == 1)
            #expect(try await f.directory.pendingOutboxMessages().isEmpty)
        }
    }

    @Test func inviteRefusals() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            let (_, foreignAdmins, _) = try await f.makeAccount("Other")
            let invite = { (email: String, groups: [String]) in
                try await f.directory.invite(accountID: account.id, email: email, firstName: "J", lastName: "D", groupIDs: groups, actor: Fixture.admin, access: Fixture.operatorAccess)
            }
            _ = try await invite("jane@example.com", [staff.id])
            let dup = await expectDomainError(.alreadyExists) { try await invite("JANE@example.com", [staff.id]) }
            #expect(dup?.message.contains("status invited") == true)
            let none = await expectDomainError(.invalidArgument) { try await invite("bob@example.com", []) }
            #expect(none?.message == "group_ids: at least one group is required")
            // Another account's group answers exactly like an unknown group.
            let foreign = await expectDomainError(.notFound) { try await invite("bob@example.com", [staff.id, foreignAdmins.id]) }
            let unknown = await expectDomainError(.notFound) { try await invite("bob@example.com", [staff.id, "UGR-0000-0000"]) }
            #expect(foreign?.message.contains("group_ids[1]") == true)
            #expect(foreign?.message.replacingOccurrences(of: foreignAdmins.id, with: "<id>")
                == unknown?.message.replacingOccurrences(of: "UGR-0000-0000", with: "<id>"))
            await expectDomainError(.invalidArgument) { try await invite("bob@", [staff.id]) }
            await expectDomainError(.notFound) {
                try await f.directory.invite(accountID: "ACC-0000-0000", email: "b@example.com", firstName: "B", lastName: "C", groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            }
            // Refusals changed nothing: bob does not exist, one outbox message, one member.
            await expectDomainError(.notFound) { try await f.directory.user(email: "bob@example.com") }
            #expect(try await f.directory.pendingOutboxMessages().count == 1)
            #expect(try await f.directory.listAccountUsers(accountID: account.id, access: Fixture.operatorAccess).items.count == 1)
        }
    }

    @Test func expiryResendRenewRevoke() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            let invited = try await f.directory.invite(
                accountID: account.id, email: "jane@example.com", firstName: "Jane", lastName: "Doe", groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            let id = invited.accountUser.id
            let oldToken = Fixture.token(of: invited.link)
            // Pending: resend keeps the link; renew is refused.
            let resent = try await f.directory.resendInvitation(accountUserID: id, actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(resent.link == invited.link)
            let renewPending = await expectDomainError(.failedPrecondition) { try await f.directory.renewInvitation(accountUserID: id, actor: Fixture.admin, access: Fixture.operatorAccess) }
            #expect(renewPending?.message.contains("still valid") == true)
            // Time passes: expired in every read, with no job having run.
            f.clock.advance(by: .seconds(7 * 86_400))
            #expect(try await f.directory.accountUser(id: id, access: Fixture.operatorAccess).status == .invitationExpired)
            let listed = try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(statuses: [.invitationExpired]), access: Fixture.operatorAccess)
            #expect(listed.items.map(\.id) == [id])
            #expect(try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(statuses: [.invited]), access: Fixture.operatorAccess).items.isEmpty)
            #expect(try await f.directory.showInvitation(token: oldToken).state == .expired)
            let copy = await expectDomainError(.failedPrecondition) { try await f.directory.invitationLink(accountUserID: id, access: Fixture.operatorAccess) }
            #expect(copy?.message == "account_user \(id): cannot copy the invitation link: the invitation expired on 2026-01-08T00:00:00Z; send a new invitation")
            await expectDomainError(.failedPrecondition) { try await f.directory.resendInvitation(accountUserID: id, actor: Fixture.admin, access: Fixture.operatorAccess) }
            await expectDomainError(.failedPrecondition) {
                try await f.directory.acceptInvitation(token: oldToken, firstName: "J", lastName: "D", password: Self.password, acceptTerms: true)
            }
            // Renew: new link, old one replaced, new expiry from now.
            let renewed = try await f.directory.renewInvitation(accountUserID: id, actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(renewed.link != invited.link && renewed.accountUser.status == .invited)
            #expect(renewed.accountUser.invitationExpiresAt == f.clock.now().addingTimeInterval(7 * 86_400))
            #expect(try await f.directory.showInvitation(token: oldToken).state == .replaced)
            let kinds = try await f.directory.pendingOutboxMessages().map(\.kind)
            #expect(kinds == [.invitation, .resend, .newInvitation])
            // Revoke: membership disabled, link says revoked, re-invitable.
            let revoked = try await f.directory.revokeInvitation(accountUserID: id, actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(revoked.status == .disabled)
            #expect(try await f.directory.showInvitation(token: Fixture.token(of: renewed.link)).state == .revoked)
            await expectDomainError(.failedPrecondition) { try await f.directory.revokeInvitation(accountUserID: id, actor: Fixture.admin, access: Fixture.operatorAccess) }
            let again = try await f.directory.invite(
                accountID: account.id, email: "jane@example.com", firstName: "Jane", lastName: "Doe", groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(again.accountUser.id == id && again.accountUser.status == .invited)
        }
    }

    @Test func acceptWithNewPasswordThenRemoveAndReinviteWithExistingLogin() async throws {
        try await withFixture { f in
            let (account, admins, staff) = try await f.makeAccount()
            let invited = try await f.directory.invite(
                accountID: account.id, email: "jane@example.com", firstName: "J", lastName: "D", groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            let token = Fixture.token(of: invited.link)
            let weak = await expectDomainError(.invalidArgument) {
                try await f.directory.acceptInvitation(token: token, firstName: "Jane", lastName: "Doe", password: "abcdefgh", acceptTerms: true)
            }
            #expect(weak?.message == "password must contain an uppercase letter, a digit and a special character")
            await expectDomainError(.invalidArgument) {
                try await f.directory.acceptInvitation(token: token, firstName: "Jane", lastName: "Doe", password: Self.password, acceptTerms: false)
            }
            #expect(try await f.directory.accountUser(id: invited.accountUser.id, access: Fixture.operatorAccess).status == .invited)  // refusals changed nothing
            f.clock.advance(by: .seconds(60))
            let active = try await f.directory.acceptInvitation(
                token: token, firstName: "Jane", lastName: "Doe", phone: "+44 7700900123", password: Self.password, acceptTerms: true)
            #expect(active.status == .active && active.joinedAt == f.clock.now() && active.invitationExpiresAt == nil)
            #expect(active.user.firstName == "Jane")
            #expect(try await f.directory.showInvitation(token: token).state == .accepted)
            let again = await expectDomainError(.failedPrecondition) { try await f.directory.declineInvitation(token: token) }
            #expect(again?.message.contains("already accepted") == true)
            await expectDomainError(.failedPrecondition) { try await f.directory.invitationLink(accountUserID: active.id, access: Fixture.operatorAccess) }
            // Sign-in helpers.
            let signedIn = try await f.directory.verifyPassword(email: "JANE@example.com", password: Self.password)
            #expect(signedIn.id == active.user.id)
            await expectDomainError(.unauthenticated) { try await f.directory.verifyPassword(email: "jane@example.com", password: "Wrong-pass-1") }
            await expectDomainError(.unauthenticated) { try await f.directory.verifyPassword(email: "nobody@example.com", password: Self.password) }
            #expect(try await f.directory.recordSignIn(userID: active.user.id).lastSignInAt == f.clock.now())
            // Groups: at least one, same account, not on disabled.
            let regrouped = try await f.directory.setGroups(accountUserID: active.id, groupIDs: [admins.id, staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(Set(regrouped.groups.map(\.id)) == [admins.id, staff.id])
            await expectDomainError(.invalidArgument) { try await f.directory.setGroups(accountUserID: active.id, groupIDs: [], actor: Fixture.admin, access: Fixture.operatorAccess) }
            // Block / unblock.
            #expect(try await f.directory.block(accountUserID: active.id, actor: Fixture.admin, access: Fixture.operatorAccess).status == .blocked)
            await expectDomainError(.failedPrecondition) { try await f.directory.block(accountUserID: active.id, actor: Fixture.admin, access: Fixture.operatorAccess) }
            #expect(try await f.directory.unblock(accountUserID: active.id, actor: Fixture.admin, access: Fixture.operatorAccess).status == .active)
            await expectDomainError(.failedPrecondition) { try await f.directory.unblock(accountUserID: active.id, actor: Fixture.admin, access: Fixture.operatorAccess) }
            // Remove: disabled, removal email, user untouched.
            let removed = try await f.directory.remove(accountUserID: active.id, actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(removed.status == .disabled)
            #expect(try await f.directory.pendingOutboxMessages().last?.kind == .removal)
            #expect(try await f.directory.user(id: active.user.id).status == .active)
            await expectDomainError(.failedPrecondition) { try await f.directory.remove(accountUserID: active.id, actor: Fixture.admin, access: Fixture.operatorAccess) }
            await expectDomainError(.failedPrecondition) { try await f.directory.setGroups(accountUserID: active.id, groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess) }
            // Re-invited; accepts by proving the existing password.
            let reinvited = try await f.directory.invite(
                accountID: account.id, email: "jane@example.com", firstName: "X", lastName: "Y", groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(reinvited.accountUser.id == active.id && reinvited.accountUser.joinedAt == nil)
            let newToken = Fixture.token(of: reinvited.link)
            await expectDomainError(.unauthenticated) {
                try await f.directory.acceptInvitation(token: newToken, firstName: "J", lastName: "D", password: "Other-Pass-2", acceptTerms: true)
            }
            let back = try await f.directory.acceptInvitation(token: newToken, firstName: "Ignored", lastName: "Name", password: Self.password, acceptTerms: true)
            #expect(back.status == .active && back.user.firstName == "Jane")
        }
    }

    @Test func declineDisablesAndIsReinvitable() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            let invited = try await f.directory.invite(
                accountID: account.id, email: "jane@example.com", firstName: "J", lastName: "D", groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            let view = try await f.directory.declineInvitation(token: Fixture.token(of: invited.link))
            #expect(view.state == .declined)
            #expect(try await f.directory.accountUser(id: invited.accountUser.id, access: Fixture.operatorAccess).status == .disabled)
            _ = try await f.directory.invite(
                accountID: account.id, email: "jane@example.com", firstName: "J", lastName: "D", groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            await expectDomainError(.notFound) { try await f.directory.showInvitation(token: "not-a-token") }
            await expectDomainError(.notFound) { try await f.directory.showInvitation(token: String(repeating: "A", count: 43)) }
        }
    }

    @Test func twoConcurrentAcceptsExactlyOneSucceeds() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            let invited = try await f.directory.invite(
                accountID: account.id, email: "jane@example.com", firstName: "J", lastName: "D", groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            let token = Fixture.token(of: invited.link)
            let directory = f.directory
            let results = await withTaskGroup(of: Result<AccountUser, any Error>.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        do {
                            return .success(try await directory.acceptInvitation(token: token, firstName: "J", lastName: "D", password: Self.password, acceptTerms: true))
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let successes = results.filter { if case .success = $0 { true } else { false } }
            #expect(successes.count == 1)
            for case .failure(let error) in results {
                let error = try #require(error as? DomainError)
                #expect(error.kind == .failedPrecondition, "\(error)")
            }
        }
    }

    @Test func userInTwoAccountsAndDeletion() async throws {
        try await withFixture { f in
            let (a, _, aStaff) = try await f.makeAccount("A")
            let (b, _, bStaff) = try await f.makeAccount("B")
            let inA = try await f.directory.invite(accountID: a.id, email: "jane@example.com", firstName: "J", lastName: "D", groupIDs: [aStaff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            let inB = try await f.directory.invite(accountID: b.id, email: "jane@example.com", firstName: "J", lastName: "D", groupIDs: [bStaff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(inA.accountUser.user.id == inB.accountUser.user.id)
            _ = try await f.directory.acceptInvitation(token: Fixture.token(of: inA.link), firstName: "Jane", lastName: "Doe", password: Self.password, acceptTerms: true)
            _ = try await f.directory.remove(accountUserID: inA.accountUser.id, actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(try await f.directory.accountUser(id: inB.accountUser.id, access: Fixture.operatorAccess).status == .invited)  // other membership untouched
            let userID = inA.accountUser.user.id
            #expect(try await f.directory.memberships(userID: userID).count == 2)
            // Delete: personal data erased, memberships deleted, email free again.
            let deleted = try await f.directory.deleteUser(id: userID, actor: Fixture.admin)
            #expect(deleted.status == .deleted && deleted.firstName.isEmpty && !deleted.hasPassword && deleted.email != "jane@example.com")
            #expect(try await f.directory.memberships(userID: userID).allSatisfy { $0.status == .deleted })
            #expect(try await f.directory.showInvitation(token: Fixture.token(of: inB.link)).state == .revoked)
            await expectDomainError(.failedPrecondition) { try await f.directory.deleteUser(id: userID, actor: Fixture.admin) }
            await expectDomainError(.unauthenticated) { try await f.directory.verifyPassword(email: "jane@example.com", password: Self.password) }
            let fresh = try await f.directory.invite(accountID: a.id, email: "jane@example.com", firstName: "J", lastName: "D", groupIDs: [aStaff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(fresh.accountUser.user.id != userID)
            await expectDomainError(.notFound) { try await f.directory.user(id: "USR-0000-0000") }
            await expectDomainError(.notFound) { try await f.directory.accountUser(id: "AUSR-0000-0000-0000", access: Fixture.operatorAccess) }
            await expectDomainError(.notFound) { try await f.directory.remove(accountUserID: "AUSR-0000-0000-0000", actor: Fixture.admin, access: Fixture.operatorAccess) }
            let users = try await f.directory.listUsers(pageSize: 1)
            #expect(users.items.count == 1 && !users.nextPageToken.isEmpty)
        }
    }
}
