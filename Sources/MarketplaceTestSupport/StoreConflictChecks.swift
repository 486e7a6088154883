import Foundation
import MarketplaceDomain
import Testing

/// Checks every backend of ``Store`` must pass alike.
public enum StoreConflictChecks {
    /// Every unique constraint of the schema, broken inside a write, is
    /// reported as its ``StoreConflict`` and undone alone: the transaction
    /// goes on and commits what follows. Also that one person may belong to
    /// two accounts (only the pair is unique). `store` must be empty.
    public static func expectEveryConflictMapped(_ store: some Store) async throws {
        let t = Date(millisecondsSince1970: 1_000)
        let account = Account(id: "ACC-1", name: "A", type: .client, status: .active, createdAt: t)
        let admins = Group(id: "GRP-1", accountID: "ACC-1", name: "Admins", description: "", permissions: ["x"], isAdministrators: true, isDefault: false, createdAt: t)
        let staff = Group(id: "GRP-2", accountID: "ACC-1", name: "Staff", description: "", permissions: [], isAdministrators: false, isDefault: true, createdAt: t)
        let user = Self.user("USR-1", "jane@example.com")
        let member = Self.member("AU-1", account: "ACC-1", user: user, groups: [staff])
        let invitation = InvitationRecord(
            tokenHash: Array(repeating: 1, count: 32), sealedToken: [1, 2, 3], accountUserID: "AU-1", createdAt: t,
            expiresAt: t.addingTimeInterval(3600), state: .pending, endedAt: nil, inviterName: "Op")
        let session = SessionRecord(
            id: "SES-1", tokenHash: Array(repeating: 7, count: 32), userID: "USR-1", currentAccountID: nil, createdAt: t,
            lastUsedAt: t, expiresAt: t.addingTimeInterval(3600))
        try await store.write { w in
            try w.insert(account)
            try w.insert(admins)
            try w.insert(staff)
            try w.insert(user, passwordHash: nil)
            try w.insert(member)
            try w.insert(invitation)
            try w.insert(session)
        }

        let second = {
            var second = invitation
            second.tokenHash = Array(repeating: 2, count: 32)
            return second
        }()
        let otherSession = {
            var otherSession = session
            otherSession.id = "SES-2"
            return otherSession
        }()
        // Rows that repeat only the primary key: a row that repeats every
        // unique key is reported by whichever index the backend checks first.
        let sameTokenHash = {
            var ended = invitation
            ended.state = .accepted
            return ended
        }()
        let sameSessionID = {
            var sameID = session
            sameID.tokenHash = Array(repeating: 8, count: 32)
            return sameID
        }()
        let cases: [(StoreConflict.Constraint, @Sendable (any StoreWriter) throws -> Void)] = [
            (.primaryKey, { w in try w.insert(Account(id: "ACC-1", name: "B", type: .client, status: .active, createdAt: t)) }),
            (.primaryKey, { w in try w.insert(Self.user("USR-1", "other@example.com"), passwordHash: nil) }),
            (.primaryKey, { w in try w.insert(sameTokenHash) }),
            (.primaryKey, { w in try w.insert(sameSessionID) }),
            (.userEmail, { w in try w.insert(Self.user("USR-2", "jane@example.com"), passwordHash: nil) }),
            (.userEmail, { w in
                try w.insert(Self.user("USR-3", "john@example.com"), passwordHash: nil)
                try w.update(Self.user("USR-3", "jane@example.com"))
            }),
            (.membership, { w in try w.insert(Self.member("AU-2", account: "ACC-1", user: user, groups: [])) }),
            (.administratorsGroup, { w in
                try w.insert(Group(id: "GRP-3", accountID: "ACC-1", name: "Admins 2", description: "", permissions: [], isAdministrators: true, isDefault: false, createdAt: t))
            }),
            (.defaultGroup, { w in
                try w.insert(Group(id: "GRP-4", accountID: "ACC-1", name: "Staff 2", description: "", permissions: [], isAdministrators: false, isDefault: true, createdAt: t))
            }),
            (.tokenHash, { w in try w.insert(otherSession) }),
            (.other, { w in try w.insert(second) }),
        ]
        for (index, (expected, body)) in cases.enumerated() {
            // The conflict is caught inside the body: the transaction goes
            // on and commits what follows it.
            let marker = "ACC-M\(index)"
            let caught = try await store.write { w -> StoreConflict? in
                var caught: StoreConflict?
                do {
                    try body(w)
                } catch let conflict as StoreConflict {
                    caught = conflict
                }
                try w.insert(Account(id: marker, name: "M", type: .client, status: .active, createdAt: t))
                return caught
            }
            #expect(caught == StoreConflict(expected), "case \(index): \(String(describing: caught))")
            #expect(try await store.read { r in try r.account(id: marker) } != nil, "case \(index)")
        }
        // Nothing of the failed statements was kept.
        #expect(try await store.read { r in try r.user(id: "USR-2") } == nil)
        #expect(try await store.read { r in try r.user(id: "USR-3")?.email } == "john@example.com")
        #expect(try await store.read { r in try r.group(id: "GRP-3") } == nil)
        #expect(try await store.read { r in try r.accountUser(id: "AU-2") } == nil)

        // The same person in a second account is no conflict, and is found
        // by account and person, and among the person's memberships.
        try await store.write { w in
            try w.insert(Account(id: "ACC-2", name: "B", type: .vendor, status: .active, createdAt: t))
            try w.insert(Self.member("AU-0", account: "ACC-2", user: user, groups: []))
        }
        #expect(try await store.read { r in try r.accountUser(accountID: "ACC-2", userID: "USR-1")?.id } == "AU-0")
        #expect(try await store.read { r in try r.accountUser(accountID: "ACC-1", userID: "USR-1")?.id } == "AU-1")
        #expect(try await store.read { r in try r.accountUsers(userID: "USR-1").map(\.id) } == ["AU-0", "AU-1"])
    }

    /// An active user without a password, for store-level tests.
    public static func user(_ id: String, _ email: String) -> User {
        let t = Date(millisecondsSince1970: 1_000)
        return User(
            id: id, firstName: "F", lastName: "L", email: email, phone: nil, language: "en", locale: "en-US", icon: "",
            status: .active, hasPassword: false, createdAt: t, updatedAt: t, lastSignInAt: nil, blockedAt: nil)
    }

    /// An invited membership, for store-level tests.
    public static func member(_ id: String, account: String, user: User, groups: [Group]) -> AccountUser {
        let t = Date(millisecondsSince1970: 1_000)
        return AccountUser(
            id: id, accountID: account, user: user, groups: groups.map { GroupSummary(id: $0.id, name: $0.name) },
            status: .invited, invitedAt: t, joinedAt: nil, lastAccessAt: nil, blockedAt: nil,
            invitationExpiresAt: t.addingTimeInterval(3600), invitedBy: "operator")
    }
}
