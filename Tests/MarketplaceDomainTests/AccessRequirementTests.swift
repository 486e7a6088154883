import Foundation
import MarketplaceDomain
import Testing

/// The account administrator's operations check the caller's rights
/// themselves, in their own transaction, and cannot be called unchecked.
@Suite("Access requirements, checked by the operations")
struct AccessRequirementTests {
    /// `message` with `id` replaced by a placeholder, to compare answers about different ids.
    private func shape(_ error: DomainError?, _ id: String) -> String {
        guard let error else { return "no error" }
        return "\(error.kind): \(error.message.replacingOccurrences(of: id, with: "<id>"))"
    }

    @Test("an administrator acts in their current account only; other accounts' ids answer like unknown ids")
    func administrator() async throws {
        try await withFixture { f in
            let (a, aAdmins, aStaff) = try await f.makeAccount("A")
            let (b, _, bStaff) = try await f.makeAccount("B")
            let admin = try await f.join("admin@example.com", a, [aAdmins])
            let worker = try await f.join("worker@example.com", a, [aStaff])
            let bMember = try await f.join("member@example.com", b, [bStaff])
            func asAdmin(_ target: String) -> AccessRequirement {
                .administrator(userID: admin.user.id, accountID: a.id, target: target)
            }

            #expect(try await f.directory.listGroups(accountID: a.id, access: asAdmin(a.id)).items.count == 2)
            #expect(try await f.directory.accountUser(id: worker.id, access: asAdmin(worker.id)) == worker)
            #expect(try await f.directory.group(id: aStaff.id, access: asAdmin(aStaff.id)) == aStaff)

            // Account B, and an unknown account, in account_id: the same answer.
            let otherAccount = await expectDomainError(.permissionDenied) { try await f.directory.listGroups(accountID: b.id, access: asAdmin(b.id)) }
            let unknownAccount = await expectDomainError(.permissionDenied) {
                try await f.directory.listGroups(accountID: "ACC-0000-0000", access: asAdmin("ACC-0000-0000"))
            }
            #expect(shape(otherAccount, b.id) == shape(unknownAccount, "ACC-0000-0000"))
            #expect(otherAccount?.message.contains("not your current account") == true)

            // B's membership and group: exactly what unknown ids answer.
            let otherMember = await expectDomainError(.notFound) { try await f.directory.accountUser(id: bMember.id, access: asAdmin(bMember.id)) }
            let unknownMember = await expectDomainError(.notFound) {
                try await f.directory.accountUser(id: "AUSR-0000-0000-0000", access: asAdmin("AUSR-0000-0000-0000"))
            }
            #expect(shape(otherMember, bMember.id) == shape(unknownMember, "AUSR-0000-0000-0000"))
            let otherGroup = await expectDomainError(.notFound) { try await f.directory.group(id: bStaff.id, access: asAdmin(bStaff.id)) }
            let unknownGroup = await expectDomainError(.notFound) { try await f.directory.group(id: "UGR-0000-0000", access: asAdmin("UGR-0000-0000")) }
            #expect(shape(otherGroup, bStaff.id) == shape(unknownGroup, "UGR-0000-0000"))
            await expectDomainError(.notFound) {
                try await f.directory.block(accountUserID: bMember.id, actor: .user(admin.user.id), access: asAdmin(bMember.id))
            }
            #expect(try await f.directory.accountUser(id: bMember.id, access: Fixture.operatorAccess).status == .active)

            // A requirement made for another target is refused, whatever the rights.
            await expectDomainError(.internal) { try await f.directory.accountUser(id: worker.id, access: asAdmin(admin.id)) }
        }
    }

    @Test("a member who is not an active administrator is refused before anything is read or changed")
    func notAdministrator() async throws {
        try await withFixture { f in
            let (a, aAdmins, aStaff) = try await f.makeAccount("A")
            let admin = try await f.join("admin@example.com", a, [aAdmins])
            let worker = try await f.join("worker@example.com", a, [aStaff])
            let target = try await f.directory.invite(
                accountID: a.id, email: "target@example.com", firstName: "T", lastName: "T", groupIDs: [aStaff.id],
                actor: Fixture.admin, access: Fixture.operatorAccess).accountUser
            func requirement(_ member: AccountUser, _ id: String) -> AccessRequirement {
                .administrator(userID: member.user.id, accountID: a.id, target: id)
            }
            let actor = MarketplaceDomain.Actor.user(worker.user.id)
            let audit = try await f.directory.auditTrail(accountID: a.id, access: Fixture.operatorAccess).items.count

            // Every operation of an account administrator, as a plain member.
            let calls: [(String, (AccessRequirement) async throws -> Void)] = [
                (a.id, { _ = try await f.directory.account(id: a.id, access: $0) }),
                (a.id, { _ = try await f.directory.createGroup(accountID: a.id, name: "X", actor: actor, access: $0) }),
                (aStaff.id, { _ = try await f.directory.group(id: aStaff.id, access: $0) }),
                (a.id, { _ = try await f.directory.listGroups(accountID: a.id, access: $0) }),
                (a.id, { _ = try await f.directory.invite(accountID: a.id, email: "x@example.com", firstName: "X", lastName: "Y", groupIDs: [aStaff.id], actor: actor, access: $0) }),
                (a.id, { _ = try await f.directory.listAccountUsers(accountID: a.id, access: $0) }),
                (target.id, { _ = try await f.directory.accountUser(id: target.id, access: $0) }),
                (target.id, { _ = try await f.directory.setGroups(accountUserID: target.id, groupIDs: [aAdmins.id], actor: actor, access: $0) }),
                (target.id, { _ = try await f.directory.remove(accountUserID: target.id, actor: actor, access: $0) }),
                (target.id, { _ = try await f.directory.invitationLink(accountUserID: target.id, access: $0) }),
                (target.id, { _ = try await f.directory.resendInvitation(accountUserID: target.id, actor: actor, access: $0) }),
                (target.id, { _ = try await f.directory.renewInvitation(accountUserID: target.id, actor: actor, access: $0) }),
                (target.id, { _ = try await f.directory.revokeInvitation(accountUserID: target.id, actor: actor, access: $0) }),
                (admin.id, { _ = try await f.directory.block(accountUserID: admin.id, actor: actor, access: $0) }),
                (admin.id, { _ = try await f.directory.unblock(accountUserID: admin.id, actor: actor, access: $0) }),
                (a.id, { _ = try await f.directory.auditTrail(accountID: a.id, access: $0) }),
            ]
            for (id, call) in calls {
                let refused = await expectDomainError(.permissionDenied) { try await call(requirement(worker, id)) }
                #expect(refused?.message.contains("administrators' group") == true, "\(refused?.message ?? "")")
            }
            #expect(try await f.directory.auditTrail(accountID: a.id, access: Fixture.operatorAccess).items.count == audit)
            #expect(try await f.directory.accountUser(id: target.id, access: Fixture.operatorAccess) == target)

            // Blocked, then removed: refused, naming the caller's own state.
            _ = try await f.directory.block(accountUserID: admin.id, actor: Fixture.admin, access: Fixture.operatorAccess)
            let blocked = await expectDomainError(.permissionDenied) {
                try await f.directory.listAccountUsers(accountID: a.id, access: requirement(admin, a.id))
            }
            #expect(blocked?.message.contains("blocked") == true)
            _ = try await f.directory.unblock(accountUserID: admin.id, actor: Fixture.admin, access: Fixture.operatorAccess)
            _ = try await f.directory.listAccountUsers(accountID: a.id, access: requirement(admin, a.id))
            _ = try await f.directory.remove(accountUserID: admin.id, actor: Fixture.admin, access: Fixture.operatorAccess)
            let removed = await expectDomainError(.permissionDenied) {
                try await f.directory.listAccountUsers(accountID: a.id, access: requirement(admin, a.id))
            }
            #expect(removed?.message.contains("not an active member") == true)
        }
    }
}
