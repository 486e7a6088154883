import Foundation
import MarketplaceDomain
import MarketplaceSQLite
import Testing

@Suite struct ListingTests {
    /// Seeds `count` members straight through the store, in one transaction.
    static func seed(_ f: Fixture, account: String, group: GroupSummary, count: Int, prefix: String) async throws -> [String] {
        let now = f.clock.now()
        return try await f.store.write { w in
            var ids: [String] = []
            /// Random ids collide now and then (as in production, where the domain retries).
            func fresh(_ kind: EntityKind, _ insert: (String) throws -> Void) throws -> String {
                while true {
                    let id = kind.generate()
                    do {
                        try insert(id)
                        return id
                    } catch let conflict as StoreConflict where conflict.constraint == .primaryKey {
                        continue
                    }
                }
            }
            for i in 0..<count {
                let name = "\(prefix)\(String(format: "%05d", (i * 7919) % 100_000))"
                let userID = try fresh(.user) { userID in
                    try w.insert(User(id: userID, firstName: name, lastName: "Member", email: "\(name.lowercased())-\(userID.lowercased())@example.com", phone: nil, createdAt: now, updatedAt: now), passwordHash: nil)
                }
                let id = try fresh(.accountUser) { id in try w.insert(AccountUser(
                    id: id, accountID: account,
                    user: UserSummary(id: userID, firstName: name, lastName: "Member", email: "\(name.lowercased())-\(userID.lowercased())@example.com", status: .active, lastSignInAt: nil),
                    groups: [group], status: i % 3 == 0 ? .invited : .active, invitedAt: now, joinedAt: i % 3 == 0 ? nil : now.addingTimeInterval(Double(i % 50)),
                    lastAccessAt: nil, blockedAt: nil, invitationExpiresAt: i % 3 == 0 ? now.addingTimeInterval(3600) : nil, invitedBy: "seed")) }
                ids.append(id)
            }
            return ids
        }
    }

    @Test(arguments: [(AccountUserQuery.SortField.name, false), (.email, true), (.joined, false), (.joined, true), (.lastSignIn, false)])
    func pagesAreStableWhileMembersAreAdded(_ sort: AccountUserQuery.SortField, _ descending: Bool) async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            let group = GroupSummary(id: staff.id, name: staff.name)
            let original = Set(try await Self.seed(f, account: account.id, group: group, count: 3000, prefix: "m"))
            var seen: [String] = []
            var token = ""
            var round = 0
            repeat {
                let page = try await f.directory.listAccountUsers(
                    accountID: account.id, AccountUserListRequest(sort: sort, descending: descending, pageSize: 200, pageToken: token), access: Fixture.operatorAccess)
                seen += page.items.map(\.id)
                token = page.nextPageToken
                // Members join between pages, sorting before and after the cursor.
                _ = try await Self.seed(f, account: account.id, group: group, count: 10, prefix: round % 2 == 0 ? "a" : "z")
                round += 1
            } while !token.isEmpty
            #expect(seen.count == Set(seen).count, "duplicates across pages")
            #expect(original.isSubset(of: Set(seen)), "gaps: \(original.subtracting(seen).count) original members missing")
        }
    }

    @Test func filtersSortAndText() async throws {
        try await withFixture { f in
            let (account, admins, staff) = try await f.makeAccount()
            let people = [("Zoe", "Adams"), ("adam", "Smith"), ("Bea", "Jones")]
            var ids: [String] = []
            for (first, last) in people {
                let m = try await f.directory.invite(
                    accountID: account.id, email: "\(first.lowercased())@example.com", firstName: first, lastName: last,
                    groupIDs: first == "Bea" ? [admins.id] : [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
                ids.append(m.accountUser.id)
            }
            let byName = try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(sort: .name), access: Fixture.operatorAccess)
            #expect(byName.items.map(\.user.firstName) == ["adam", "Bea", "Zoe"])
            let byEmailDesc = try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(sort: .email, descending: true), access: Fixture.operatorAccess)
            #expect(byEmailDesc.items.map(\.user.email) == ["zoe@example.com", "bea@example.com", "adam@example.com"])
            #expect(try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(groupID: admins.id), access: Fixture.operatorAccess).items.map(\.user.firstName) == ["Bea"])
            #expect(try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(query: "SMITH"), access: Fixture.operatorAccess).items.map(\.user.firstName) == ["adam"])
            #expect(try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(query: ids[2]), access: Fixture.operatorAccess).items.map(\.id) == [ids[2]])
            #expect(try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(query: "%"), access: Fixture.operatorAccess).items.isEmpty)
            _ = try await f.directory.remove(accountUserID: ids[0], actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(statuses: [.disabled]), access: Fixture.operatorAccess).items.map(\.id) == [ids[0]])
            #expect(try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(statuses: [.invited, .disabled]), access: Fixture.operatorAccess).items.count == 3)
            // Tokens are checked: malformed, or from another sort order.
            let page = try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(sort: .name, pageSize: 1), access: Fixture.operatorAccess)
            await expectDomainError(.invalidArgument) {
                try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(sort: .email, pageSize: 1, pageToken: page.nextPageToken), access: Fixture.operatorAccess)
            }
            await expectDomainError(.invalidArgument) {
                try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(pageToken: "bm90LWEtdG9rZW4"), access: Fixture.operatorAccess)
            }
            await expectDomainError(.invalidArgument) { try await f.directory.listAccountUsers(accountID: account.id, AccountUserListRequest(pageSize: 501), access: Fixture.operatorAccess) }
            await expectDomainError(.notFound) { try await f.directory.listAccountUsers(accountID: "ACC-0000-0000", access: Fixture.operatorAccess) }
            // A foreign group on edit is refused, like an unknown group.
            let (_, foreign, _) = try await f.makeAccount("Other")
            await expectDomainError(.notFound) { try await f.directory.setGroups(accountUserID: ids[1], groupIDs: [foreign.id], actor: Fixture.admin, access: Fixture.operatorAccess) }
        }
    }

    @Test func auditTrailNewestFirstAndPaged() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            let m = try await f.directory.invite(accountID: account.id, email: "a@example.com", firstName: "A", lastName: "B", groupIDs: [staff.id], actor: .user("USR-0000-0001"), access: Fixture.operatorAccess)
            _ = try await f.directory.remove(accountUserID: m.accountUser.id, actor: Fixture.admin, access: Fixture.operatorAccess)
            var actions: [AuditEvent.Action] = []
            var token = ""
            repeat {
                let page = try await f.directory.auditTrail(accountID: account.id, pageSize: 2, pageToken: token, access: Fixture.operatorAccess)
                actions += page.items.map(\.action)
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(actions == [.userRemoved, .userInvited, .groupCreated, .groupCreated, .accountCreated])
        }
    }
}
