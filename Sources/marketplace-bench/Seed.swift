import Foundation
import MarketplaceDomain
import MarketplaceSQLite

/// The benchmark's data set, written through the store layer (the `Store` of
/// either backend and its `StoreWriter`, so rows, sort keys and group links are
/// exactly what the domain writes) in large transactions instead of a million
/// invite RPCs. Given a `store` (e.g. PostgreSQL's), the rows go there; the key
/// file and the session tokens are in `dataDirectory` either way.
///
/// Identifiers are deterministic so the load driver can pick existing rows
/// without asking the server:
/// - accounts `ACC-0000-0001` ... (account 1 is the big one);
/// - each account's default group "Members" is `UGR-` + the account's digits;
/// - users `USR-` + the user number; membership `AUSR-0000-` + the user number
///   (each user is a member of exactly one account);
/// - users 1...bigMembers belong to account 1, the rest round-robin to the others.
/// About 90% of memberships are active and joined, 10% blocked.
/// Not seeded: audit events, outbox messages, invitations. Sessions: see ``seedSessions``.
enum Seed {
    struct Size {
        var accounts = 10_000
        var users = 1_000_000
        var bigMembers = 100_000
    }

    static let firstNames = [
        "ada", "alan", "grace", "edsger", "barbara", "donald", "ken", "dennis", "linus", "margaret",
        "john", "mary", "niklaus", "tony", "leslie", "frances", "radia", "shafi", "silvio", "judea",
        "marta", "mario", "maria", "martin", "marek", "olga", "ivan", "sofia", "lucas", "emma",
        "noah", "mia", "liam", "zoe", "omar", "yara", "kenji", "aiko", "ravi", "priya",
    ]
    static let lastNames = [
        "lovelace", "turing", "hopper", "dijkstra", "liskov", "knuth", "thompson", "ritchie", "torvalds", "hamilton",
        "backus", "shaw", "wirth", "hoare", "lamport", "allen", "perlman", "goldwasser", "micali", "pearl",
        "smith", "jones", "garcia", "muller", "rossi", "novak", "kowalski", "nguyen", "tanaka", "singh",
        "martins", "marquez", "silva", "costa", "berg", "larsen", "kim", "park", "chen", "wang",
        "ivanov", "petrov", "dubois", "moreau", "fischer", "weber", "romano", "russo", "lopez", "diaz",
    ]

    static func accountID(_ n: Int) -> String { String(format: "ACC-%04d-%04d", n / 10_000, n % 10_000) }
    static func groupID(_ n: Int) -> String { String(format: "UGR-%04d-%04d", n / 10_000, n % 10_000) }
    static func userID(_ n: Int) -> String { String(format: "USR-%04d-%04d", n / 10_000, n % 10_000) }
    static func memberID(_ n: Int) -> String { String(format: "AUSR-0000-%04d-%04d", n / 10_000, n % 10_000) }
    static func account(ofUser n: Int, size: Size) -> Int {
        n <= size.bigMembers ? 1 : 2 + (n - size.bigMembers - 1) % (size.accounts - 1)
    }

    static func run(dataDirectory: String, size: Size, store given: (any Store)? = nil) async throws {
        let started = ContinuousClock.now
        if given != nil { try DataDirectory.prepare(dataDirectory) }
        let store = try given ?? SQLiteStore(dataDirectory: dataDirectory)
        // The key file the server will use (invitation links, tokens).
        let secrets = try Secrets(configuration: .inDataDirectory(dataDirectory, hashingThreads: 1))
        let created = Date(timeIntervalSince1970: 1_700_000_000).truncatedToMilliseconds
        try await store.write { w in
            for n in 1...size.accounts {
                try w.insert(Account(id: accountID(n), name: "Bench Account \(n)", type: .client, status: .active, createdAt: created))
                try w.insert(Group(
                    id: groupID(n), accountID: accountID(n), name: "Members", description: "Everyone",
                    permissions: ["catalog.view"], isAdministrators: false, isDefault: true, createdAt: created))
            }
            try w.insert(Group(
                id: "UGR-9999-9999", accountID: accountID(1), name: "Administrators", description: "Manage users",
                permissions: ["users.manage"], isAdministrators: true, isDefault: false, createdAt: created))
        }
        let batch = 25_000
        var next = 1
        while next <= size.users {
            let range = next...min(size.users, next + batch - 1)
            try await store.write { w in
                for n in range {
                    var rng = SplitMix(seed: UInt64(n))
                    let first = firstNames[Int(rng.next() % UInt64(firstNames.count))]
                    let last = lastNames[Int(rng.next() % UInt64(lastNames.count))]
                    let at = created.addingTimeInterval(Double(n))
                    let signIn = rng.next() % 3 == 0 ? nil : at.addingTimeInterval(86_400)
                    let user = User(
                        id: userID(n), firstName: first.capitalized, lastName: last.capitalized,
                        email: "\(first).\(last).\(n)@example.com", phone: nil, createdAt: at, updatedAt: at,
                        lastSignInAt: signIn)
                    try w.insert(user, passwordHash: nil)
                    let accountNumber = account(ofUser: n, size: size)
                    let blocked = rng.next() % 10 == 0
                    try w.insert(AccountUser(
                        id: memberID(n), accountID: accountID(accountNumber),
                        user: user,
                        groups: [GroupSummary(id: groupID(accountNumber), name: "Members")],
                        status: blocked ? .blocked : .active, invitedAt: at, joinedAt: at.addingTimeInterval(3_600),
                        lastAccessAt: nil, blockedAt: blocked ? at.addingTimeInterval(7_200) : nil,
                        invitationExpiresAt: nil, invitedBy: "operator"))
                }
            }
            next = range.upperBound + 1
        }
        try await seedSessions(store, secrets, dataDirectory: dataDirectory, size: size)
        if let sqlite = store as? SQLiteStore { try await sqlite.unsafeExecute("PRAGMA wal_checkpoint(TRUNCATE)") }
        let elapsed = ContinuousClock.now - started
        FileHandle.standardError.write(Data(
            "seeded \(size.accounts) accounts, \(size.users) users (\(size.bigMembers) in \(accountID(1))) in \(elapsed)\n".utf8))
    }
}

extension Seed {
    /// How many sessions of members of the big account are seeded.
    static let sessions = 10_000
    /// Their tokens, one a line, in the data directory (for the CheckAccess
    /// load; the server stores only their hashes).
    static let sessionsFile = "bench-sessions.txt"

    /// Sessions of random members of account 1 (about 10% of them blocked),
    /// valid for ten years; the server runs with a long idle timeout.
    static func seedSessions(_ store: any Store, _ secrets: Secrets, dataDirectory: String, size: Size) async throws {
        var rng = SplitMix(seed: 13)
        let now = Date().truncatedToMilliseconds
        var tokens: [String] = []
        var pending: [SessionRecord] = []
        for _ in 0..<sessions {
            let member = 1 + Int(rng.next() % UInt64(size.bigMembers))
            let issued = secrets.issueBearerToken()
            tokens.append(issued.token)
            pending.append(SessionRecord(
                id: String(format: "SES-%016llx", rng.next()), tokenHash: issued.hash, userID: userID(member), currentAccountID: accountID(1),
                createdAt: now, lastUsedAt: now, expiresAt: now.addingTimeInterval(10 * 365 * 86_400)))
        }
        let records = pending
        try await store.write { w in
            for record in records { try w.insert(record) }
        }
        try (tokens.joined(separator: "\n") + "\n").write(
            toFile: (dataDirectory as NSString).appendingPathComponent(sessionsFile), atomically: true, encoding: .utf8)
    }
}

/// A small deterministic generator (SplitMix64) for repeatable data and picks.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
