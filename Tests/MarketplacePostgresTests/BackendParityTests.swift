import Foundation
import MarketplaceDomain
import MarketplacePostgres
import MarketplaceSQLite
import MarketplaceTestSupport
import Testing

/// The same rows give the same pages, in the same order, on SQLite and on
/// PostgreSQL: names that differ by case, accents, symbols and the name
/// separator, listed page by page with keyset cursors and searched by text.
@Suite(.enabled(if: PostgresCluster.isInstalled, Comment(rawValue: PostgresCluster.notInstalled)))
struct BackendParityTests {
    static let names = [
        "b", "B", "a", "A", "_x", "Ä", "ä", "z", "Zed", "van, Zed", "Van Dyke", "élan", "Élan", "[x]", "100%", "a_b", "ab", "ß",
    ]

    @Test("group listings, membership listings and text search give identical pages on both backends")
    func samePagesOnBothBackends() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sqlite = try SQLiteStore(dataDirectory: directory.appending("data"))
        try await withStore { postgres in
            let stores: [any Store] = [sqlite, postgres]
            for store in stores { try await store.write(Self.populate) }
            var results: [[String]] = []
            for store in stores {
                var lines: [String] = []
                // Groups, two at a time, by name ignoring case (ASCII) then id.
                var after: (name: String, id: String)?
                while true {
                    let cursor = after
                    let page = try await store.read { r in try r.groups(accountID: "ACC-1", after: cursor, limit: 2) }
                    lines += page.map { "group \($0.name) \($0.id)" }
                    guard let last = page.last, page.count == 2 else { break }
                    after = (last.name, last.id)
                }
                for sort in AccountUserQuery.SortField.allCases {
                    for descending in [false, true] {
                        for text in [nil, "a", "é", "%", "_", "au-0", "\u{1}", "van, z", "ß"] as [String?] {
                            var cursor: AccountUserQuery.Cursor?
                            while true {
                                let query = AccountUserQuery(
                                    accountID: "ACC-1", text: text, sort: sort, descending: descending, after: cursor, limit: 3,
                                    now: Date(millisecondsSince1970: 5_000))
                                let page = try await store.read { r in try r.accountUsers(query) }
                                lines += page.map { "\(sort) \(descending) \(text ?? "-") \($0.id) \($0.groups.map(\.id))" }
                                guard let last = page.last, page.count == 3 else { break }
                                cursor = AccountUserQuery.Cursor(key: AccountUserQuery.key(of: last, for: sort), id: last.id)
                            }
                        }
                    }
                }
                // Each membership read alone, with its groups in order.
                for index in Self.names.indices {
                    let id = String(format: "AU-%02d", index)
                    let member = try await store.read { r in try r.accountUser(id: id) }
                    lines.append("member \(id) \(member?.groups.map { "\($0.name)=\($0.id)" } ?? ["missing"])")
                    // The one-statement read gives the same membership.
                    let alone = try await store.readAccountUser(id: id)
                    #expect(alone == member, "\(type(of: store)).readAccountUser(id: \(id))")
                }
                #expect(try await store.readAccountUser(id: "AU-99") == nil)
                results.append(lines)
            }
            #expect(results[0].count > 100)
            #expect(results[0].contains { $0.hasPrefix("member ") && $0.contains("=GRP-") && $0.contains(", ") },
                    "some membership has several groups")
            #expect(results[0] == results[1])
        }
    }

    @Test("a membership read alone answers what a transaction reads, every optional field set or unset, on both backends")
    func membershipReadAloneMatchesEveryField() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sqlite = try SQLiteStore(dataDirectory: directory.appending("data"))
        let inserted = Self.variedMemberships()
        try await withStore { postgres in
            for store in [sqlite, postgres] as [any Store] {
                try await store.write { w in
                    try w.insert(Account(id: "ACC-2", name: "B", type: .vendor, status: .active, createdAt: Date(millisecondsSince1970: 1)))
                    try w.insert(Group(
                        id: "GRP-2", accountID: "ACC-2", name: "Ops", description: "", permissions: [],
                        isAdministrators: false, isDefault: false, createdAt: Date(millisecondsSince1970: 1)))
                    for (index, member) in inserted.enumerated() {
                        try w.insert(member.user, passwordHash: index % 2 == 0 ? "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA" : nil)
                        try w.insert(member)
                    }
                    try w.setGroups(accountUserID: inserted[0].id, groupIDs: ["GRP-2"])
                }
                for (index, member) in inserted.enumerated() {
                    // Twice: the second read reuses the statements prepared by the first.
                    for _ in 0..<2 {
                        let alone = try #require(try await store.readAccountUser(id: member.id))
                        let read = try await store.read { r in try r.accountUser(id: member.id) }
                        #expect(alone == read, "\(type(of: store)) \(member.id)")
                        var expected = member
                        expected.user.hasPassword = index % 2 == 0
                        expected.groups = index == 0 ? [GroupSummary(id: "GRP-2", name: "Ops")] : []
                        #expect(alone == expected, "\(type(of: store)) \(member.id)")
                    }
                }
                #expect(try await store.readAccountUser(id: "AUSR-9999-9999-9999") == nil)
            }
            // The id is bound whole: a NUL does not cut it short into another
            // membership's id (PostgreSQL refuses NUL in text outright).
            #expect(try await sqlite.readAccountUser(id: inserted[0].id + "\u{0}x") == nil)
        }
    }

    @Test("users and sessions read back every field, set or unset, by each of their look-ups, on both backends")
    func usersAndSessionsReadBackEveryField() async throws {
        let users = Self.variedMemberships().map(\.user)
        let t = { (ms: Int64) in Date(millisecondsSince1970: 1_764_000_000_000 + ms) }
        let sessions = users.indices.map { index in
            SessionRecord(
                id: "SES-000000000000000\(index)", tokenHash: [UInt8](repeating: UInt8(index + 1), count: 32), userID: users[index].id,
                currentAccountID: index % 2 == 0 ? "ACC-2" : nil, createdAt: t(100), lastUsedAt: t(200 + Int64(index)),
                expiresAt: t(300))
        }
        try await onBothBackends { store in
            try await store.write { w in
                try w.insert(Account(id: "ACC-2", name: "B", type: .vendor, status: .active, createdAt: Date(millisecondsSince1970: 1)))
                for (index, user) in users.enumerated() {
                    try w.insert(user, passwordHash: index % 2 == 0 ? "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA" : nil)
                }
                for session in sessions { try w.insert(session) }
            }
            let expected = users.enumerated().map { index, user in
                var user = user
                user.hasPassword = index % 2 == 0
                return user
            }
            for user in expected {
                #expect(try await store.read { r in try r.user(id: user.id) } == user, "\(type(of: store)) \(user.id)")
                #expect(try await store.read { r in try r.user(email: user.email) } == user, "\(type(of: store)) \(user.email)")
            }
            #expect(try await store.read { r in try r.users(after: nil, limit: 10) } == expected, "\(type(of: store))")
            #expect(try await store.read { r in try r.users(after: expected[1].id, limit: 1) } == [expected[2]], "\(type(of: store))")
            #expect(try await store.read { r in try r.user(id: "USR-9999-9999") } == nil)
            for session in sessions {
                #expect(try await store.read { r in try r.session(tokenHash: session.tokenHash) } == session, "\(type(of: store)) \(session.id)")
                #expect(try await store.read { r in try r.session(id: session.id) } == session, "\(type(of: store)) \(session.id)")
            }
            #expect(try await store.read { r in try r.session(tokenHash: [UInt8](repeating: 0xEE, count: 32)) } == nil)
        }
    }

    @Test("accounts read back every field, by id and in pages, on both backends")
    func accountsReadBackEveryField() async throws {
        // Every kind and status; names with quotes and non-ASCII; ids out of insertion order.
        let accounts = Account.Kind.allCases.enumerated().flatMap { k, kind in
            Account.Status.allCases.enumerated().map { s, status in
                Account(
                    id: "ACC-000\(5 - k)-000\(s)", name: k == 1 ? "Ünïcode \"\(s)\" Ltd" : "Acme \(k)\(s)", type: kind, status: status,
                    createdAt: Date(millisecondsSince1970: 1_764_000_000_000 + Int64(10 * k + s)))
            }
        }
        let ordered = accounts.sorted { $0.id < $1.id }
        try await onBothBackends { store in
            try await store.write { w in for account in accounts { try w.insert(account) } }
            for account in accounts {
                #expect(try await store.read { r in try r.account(id: account.id) } == account, "\(type(of: store)) \(account.id)")
            }
            #expect(try await store.read { r in try r.account(id: "ACC-9999-9999") } == nil)
            #expect(try await store.read { r in try r.accounts(after: nil, limit: 100) } == ordered, "\(type(of: store))")
            #expect(try await store.read { r in try r.accounts(after: ordered[1].id, limit: 2) } == Array(ordered[2...3]), "\(type(of: store))")
        }
    }

    @Test("a membership's access (status, expiry, account status, groups with their permissions) reads back whole, on both backends")
    func membershipAccessReadsBackEveryField() async throws {
        let memberships = Self.variedMemberships()
        let t = Date(millisecondsSince1970: 1_764_000_000_000)
        // Names out of id order; one group with no permission, one with three.
        let groups = [
            Group(id: "GRP-3", accountID: "ACC-2", name: "Admins", description: "", permissions: [],
                  isAdministrators: true, isDefault: false, createdAt: t),
            Group(id: "GRP-1", accountID: "ACC-2", name: "Buyers", description: "", permissions: ["orders.read", "orders.write", "apps.install"],
                  isAdministrators: false, isDefault: true, createdAt: t),
            Group(id: "GRP-2", accountID: "ACC-2", name: "Buyers", description: "", permissions: ["billing.read"],
                  isAdministrators: false, isDefault: false, createdAt: t),
        ]
        let linked: [[String]] = [["GRP-1", "GRP-2", "GRP-3"], [], ["GRP-2"], ["GRP-1"]]
        try await onBothBackends { store in
            try await store.write { w in
                try w.insert(Account(id: "ACC-2", name: "B", type: .vendor, status: .active, createdAt: t))
                for group in groups { try w.insert(group) }
                for (index, membership) in memberships.enumerated() {
                    try w.insert(membership.user, passwordHash: nil)
                    try w.insert(membership)
                    try w.setGroups(accountUserID: membership.id, groupIDs: linked[index])
                }
            }
            for (index, membership) in memberships.enumerated() {
                let expected = MembershipAccess(
                    accountUserID: membership.id, status: membership.status,
                    invitationExpiresAt: membership.invitationExpiresAt, accountStatus: .active,
                    groups: groups.filter { linked[index].contains($0.id) }
                        .sorted { ($0.name, $0.id) < ($1.name, $1.id) }
                        .map { .init(id: $0.id, name: $0.name, isAdministrators: $0.isAdministrators, permissions: $0.permissions) })
                let userID = membership.user.id
                let read = try await store.read { r in try r.membershipAccess(accountID: "ACC-2", userID: userID) }
                #expect(read == expected, "\(type(of: store)) \(membership.id)")
            }
            let firstUserID = memberships[0].user.id
            let elsewhere = try await store.read { r in try r.membershipAccess(accountID: "ACC-1", userID: firstUserID) }
            #expect(elsewhere == nil)
        }
    }

    /// Runs `body` on a new SQLite store, then on a new PostgreSQL store.
    private func onBothBackends(_ body: (any Store) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await body(try SQLiteStore(dataDirectory: directory.appending("data")))
        try await withStore { postgres in try await body(postgres) }
    }

    /// Memberships whose optional fields are set in some and unset in others.
    static func variedMemberships() -> [AccountUser] {
        // Times of this century: a Date near 1970 does not survive the
        // round trip through milliseconds exactly.
        let t = { (ms: Int64) in Date(millisecondsSince1970: 1_764_000_000_000 + ms) }
        return (0..<4).map { index in
            let user = User(
                id: "USR-0000-000\(index)", firstName: "Ünïcode \(index)", lastName: index == 1 ? "" : "Ø'Brien", email: "v\(index)@example.com",
                phone: index % 2 == 0 ? "+1 555 010\(index)" : nil, language: index == 3 ? "de" : "en", locale: index == 3 ? "de-DE" : "en-US",
                icon: index == 2 ? "https://example.com/i.png" : "", status: index == 3 ? .deleted : .active,
                createdAt: t(10 + Int64(index)), updatedAt: t(20 + Int64(index)),
                lastSignInAt: index % 2 == 1 ? t(30) : nil, blockedAt: index == 2 ? t(40) : nil)
            let status: MembershipStatus = [.active, .invited, .blocked, .deleted][index]
            return AccountUser(
                id: "AUSR-0000-0000-000\(index)", accountID: "ACC-2", user: user, groups: [], status: status,
                invitedAt: t(50), joinedAt: index == 1 ? nil : t(60), lastAccessAt: index == 0 ? t(70) : nil,
                blockedAt: index == 2 ? t(80) : nil, invitationExpiresAt: index == 1 ? t(90) : nil,
                invitedBy: index == 0 ? "operator" : "USR-0000-0000",
                invitedAs: index == 1 ? InvitedPerson(firstName: "Ann", lastName: "Lee", phone: nil)
                    : index == 2 ? InvitedPerson(firstName: "Bo", lastName: "", phone: "+44 20 7946 0000") : nil)
        }
    }

    @Sendable static func populate(_ w: any StoreWriter) throws {
        let t = Date(millisecondsSince1970: 1_000)
        try w.insert(Account(id: "ACC-1", name: "A", type: .client, status: .active, createdAt: t))
        for (index, name) in names.enumerated() {
            try w.insert(Group(
                id: String(format: "GRP-%02d", names.count - index), accountID: "ACC-1", name: name, description: "",
                permissions: [], isAdministrators: false, isDefault: false, createdAt: t))
            let user = User(
                id: String(format: "USR-%02d", index), firstName: names[(index + 3) % names.count], lastName: name,
                email: "\(name.lowercased().unicodeScalars.filter { $0.isASCII && $0.properties.isAlphabetic }.map(String.init).joined())\(index)@example.com",
                phone: nil, createdAt: t, updatedAt: t,
                lastSignInAt: index % 3 == 0 ? nil : Date(millisecondsSince1970: Int64(1_000 + index % 4)))
            try w.insert(user, passwordHash: nil)
            try w.insert(AccountUser(
                id: String(format: "AU-%02d", (index * 7) % names.count), accountID: "ACC-1", user: user, groups: [],
                status: .active, invitedAt: t, joinedAt: index % 2 == 0 ? nil : Date(millisecondsSince1970: Int64(2_000 + index % 3)),
                lastAccessAt: nil, blockedAt: nil, invitationExpiresAt: nil, invitedBy: "operator"))
        }
        // Zero to three groups per membership, whose names differ by case,
        // accents and symbols: each backend orders a membership's groups itself.
        for index in names.indices where index % 4 > 0 {
            let groupIDs = (0..<(index % 4)).map { String(format: "GRP-%02d", (index + $0 * 5) % names.count + 1) }
            try w.setGroups(accountUserID: String(format: "AU-%02d", (index * 7) % names.count), groupIDs: groupIDs)
        }
    }
}
