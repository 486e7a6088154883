import CoreMetrics
import Foundation
import GRDB
import Synchronization

/// The text query of large accounts' member listings, answered from memory.
///
/// A page of a listing with a text query (``AccountUserQuery/text``) scans
/// the account's name or email index in order until it has found the page's
/// members; a rare text makes it read thousands of index entries (issue 16:
/// 7,231 entries for the 50th active "kow" of a 20,000-member account). For
/// an account with at least ``minimumMembers`` memberships, this keeps the
/// four searched values of each membership (id, user id, name key, email key)
/// in two arrays ordered as those indexes, each entry with a signature of its
/// two- and three-byte sequences and each block of 64 entries with a summary
/// of theirs, so finding the candidates of a page costs a few nanoseconds
/// per block or entry passed over (entries added after the build are kept in
/// orders of their own, merged with the built ones by each query). Candidates are only candidates: the
/// listing then reads them from its own snapshot and keeps those that still
/// have the key they were found at and meet every condition of the query
/// (``SQLiteAccess``), so the index may hold more than the database (old
/// values, rows rolled back, removed memberships), never less:
///
/// - it is built on the writer's connection, between two writes, so no write
///   is in progress while it reads the account;
/// - every later insert of a membership, or change of its name or email key,
///   on that connection adds an entry before its transaction commits (a
///   temporary trigger calls ``noteFunctionName``), so a reader whose snapshot
///   holds the row finds its entry;
/// - only while no other store writes the file: an index is built only when
///   this store is the only one that has it open (in this process and in
///   others), and dropped as soon as another opens it (``WriterPresence``;
///   several daemons may serve one SQLite file). Restores and migrations run
///   with the service stopped.
///
/// Memory and the writer's time are bounded: an index is dropped (the next
/// query builds it again) once it took ``AccountMemberIndex/rebuildAfterNotes``
/// more entries; the least recently used indexes are dropped to keep the
/// total under `budgetBytes` (an account whose index alone would not fit is
/// scanned); and builds, which hold up writes while they read an account
/// (~20 ms for 20,000 members), start at most once per `buildInterval`.
final class MemberSearch: Sendable {
    /// Accounts smaller than this are scanned (a few hundred microseconds).
    let minimumMembers: Int
    /// The most memory the indexes of all accounts may hold (estimated).
    let budgetBytes: Int
    /// The least time between two builds.
    let buildInterval: Duration
    /// How long an account left to the scan (small, too large) is not counted again.
    static let scannedRecheck: Duration = .seconds(60)
    /// The SQL function the writer's temporary triggers call.
    static let noteFunctionName = "marketplace_member_search_note"

    /// Runs `build` on the writer's connection, between two writes (with nil
    /// if it cannot: the store is closing, or the writes failed before it).
    typealias Scheduler = @Sendable (_ build: @escaping @Sendable (Database?) -> Void) -> Void

    private struct State {
        var indexes: [String: AccountMemberIndex] = [:]
        var building: Set<String> = []
        /// Accounts left to the scan for now (small, too large, or a build that failed), since when.
        var scanned: [String: ContinuousClock.Instant] = [:]
        var clock: UInt64 = 0
        var lastBuild: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let schedule: Scheduler
    private let presence: WriterPresence
    /// `marketplace_storage_member_search_bytes` and `_accounts`.
    private let bytesGauge = Gauge(label: "marketplace_storage_member_search_bytes")
    private let accountsGauge = Gauge(label: "marketplace_storage_member_search_accounts")

    init(
        presence: WriterPresence, minimumMembers: Int = 2_000, budgetBytes: Int = 32 << 20,
        buildInterval: Duration = .seconds(1), schedule: @escaping Scheduler
    ) {
        self.presence = presence
        self.minimumMembers = minimumMembers
        self.budgetBytes = budgetBytes
        self.buildInterval = buildInterval
        self.schedule = schedule
        report()  // 0 and 0: the gauges exist from the start
    }

    /// The built index of `accountID`, or nil (then the caller scans). A large
    /// account without one gets it built on the writer, for later queries.
    func index(of accountID: String, _ db: Database) -> AccountMemberIndex? {
        let now = ContinuousClock.now
        if let index = state.withLock({ $0.indexes[accountID] }) {
            // The snapshot starts before the check below, so a store that
            // opens the file after the check cannot have committed into it.
            do {
                _ = try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM account_users WHERE id = ''"))
            } catch {
                return nil
            }
            if presence.opens() == index.opens {
                state.withLock { s in
                    s.clock += 1
                    index.lastUse.store(s.clock, ordering: .relaxed)
                }
                return index
            }
            // Another store opened the file: it may have written what no index saw.
            state.withLock { $0.indexes.removeAll() }
            report()
        }
        let known = state.withLock { s -> Bool in
            if s.building.contains(accountID) { return true }
            if let checked = s.scanned[accountID], checked.duration(to: now) < Self.scannedRecheck { return true }
            return false
        }
        if known { return nil }
        let count = (try? Int.fetchOne(
            db.cachedStatement(sql: "SELECT count(*) FROM account_users WHERE account_id = ?"), arguments: [accountID])) ?? 0
        let large = state.withLock { s -> Bool in
            guard count >= minimumMembers else {
                if s.scanned.count >= 10_000 { s.scanned.removeAll() }
                s.scanned[accountID] = now
                return false
            }
            if let last = s.lastBuild, last.duration(to: now) < buildInterval { return false }  // scanned meanwhile
            guard s.building.insert(accountID).inserted else { return false }
            s.lastBuild = now
            return true
        }
        if large {
            schedule { [self] db in build(accountID, db) }
        }
        return nil
    }

    /// Reads `accountID`'s memberships on the writer's connection and keeps
    /// their index (see the type's comment for why there).
    private func build(_ accountID: String, _ db: Database?) {
        var index: AccountMemberIndex?
        do {
            // Only while no other store, here or in another process, writes
            // the file; opened since, the index is dropped (index(of:)).
            guard let db, presence.alone(), let opens = presence.opens() else { throw CancellationError() }
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT id, user_id, sort_name, sort_email FROM account_users WHERE account_id = ?"),
                arguments: [accountID])
            var entries: [AccountMemberIndex.Entry] = []
            while let row = try rows.next() {
                entries.append(.init(id: row[0], userID: row[1], name: row[2], email: row[3]))
            }
            index = AccountMemberIndex(entries, opens: opens)
        } catch {
            index = nil
        }
        let now = ContinuousClock.now
        state.withLock { s in
            s.building.remove(accountID)
            guard let index else {
                s.scanned[accountID] = now  // try again later, not at every query
                return
            }
            guard index.bytes <= budgetBytes else {
                s.scanned[accountID] = now  // too large to keep: scanned, and not read again at every query
                return
            }
            s.clock += 1
            index.lastUse.store(s.clock, ordering: .relaxed)
            s.indexes[accountID] = index
            var total = s.indexes.values.reduce(0) { $0 + $1.bytes }
            while total > budgetBytes,
                  let oldest = s.indexes.min(by: { $0.value.lastUse.load(ordering: .relaxed) < $1.value.lastUse.load(ordering: .relaxed) }) {
                total -= oldest.value.bytes
                s.indexes[oldest.key] = nil
            }
        }
        report()
    }

    private func report() {
        let now = statistics
        bytesGauge.record(now.bytes)
        accountsGauge.record(now.accounts)
    }

    /// A membership inserted, or its name or email key changed, on the
    /// writer's connection (from its temporary triggers).
    func note(accountID: String, _ entry: AccountMemberIndex.Entry) {
        guard let index = state.withLock({ $0.indexes[accountID] }) else { return }
        if !index.add(entry) {
            state.withLock { s in
                if s.indexes[accountID] === index { s.indexes[accountID] = nil }
            }
            report()
        }
    }

    /// Accounts with an index, their entries (at the build, and added
    /// since), and the memory they hold (estimated).
    var statistics: (accounts: Int, entries: Int, notes: Int, bytes: Int) {
        state.withLock { s in
            s.indexes.values.reduce((s.indexes.count, 0, 0, 0)) { ($0.0, $0.1 + $1.count, $0.2 + $1.notes, $0.3 + $1.bytes) }
        }
    }

    /// Registers ``noteFunctionName`` and the temporary triggers that call it
    /// on `db`, the writer's connection.
    func installTriggers(_ db: Database) throws {
        let note = DatabaseFunction(Self.noteFunctionName, argumentCount: 5, pure: false) { [self] values in
            guard let account = String.fromDatabaseValue(values[0]), let id = String.fromDatabaseValue(values[1]),
                  let user = String.fromDatabaseValue(values[2]), let name = String.fromDatabaseValue(values[3]),
                  let email = String.fromDatabaseValue(values[4])
            else { return nil }
            self.note(accountID: account, .init(id: id, userID: user, name: name, email: email))
            return nil
        }
        db.add(function: note)
        let call = "SELECT \(Self.noteFunctionName)(NEW.account_id, NEW.id, NEW.user_id, NEW.sort_name, NEW.sort_email);"
        try db.execute(sql: """
            CREATE TEMP TRIGGER IF NOT EXISTS member_search_insert AFTER INSERT ON main.account_users BEGIN \(call) END;
            CREATE TEMP TRIGGER IF NOT EXISTS member_search_update AFTER UPDATE OF sort_name, sort_email ON main.account_users
            WHEN NEW.sort_name IS NOT OLD.sort_name OR NEW.sort_email IS NOT OLD.sort_email BEGIN \(call) END;
            """)
    }
}

/// One account's searched values, in the orders of its name and email
/// indexes (``MemberSearch``). Safe to use from any thread.
final class AccountMemberIndex: Sendable {
    /// A membership's four searched values, in one buffer.
    struct Entry: Sendable {
        let bytes: [UInt8]
        let idEnd: Int32, userEnd: Int32, nameEnd: Int32

        init(id: String, userID: String, name: String, email: String) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(id.utf8.count + userID.utf8.count + name.utf8.count + email.utf8.count)
            bytes.append(contentsOf: id.utf8)
            idEnd = Int32(bytes.count)
            bytes.append(contentsOf: userID.utf8)
            userEnd = Int32(bytes.count)
            bytes.append(contentsOf: name.utf8)
            nameEnd = Int32(bytes.count)
            bytes.append(contentsOf: email.utf8)
            self.bytes = bytes
        }

        /// The signature of the two- and three-byte sequences of each value
        /// (ASCII letters folded), none across two values.
        var signature: Signature {
            var signature = Signature()
            forEachValue { signature.add($0) }
            return signature
        }

        /// Calls `body` with each of the four values' bytes.
        func forEachValue(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
            bytes.withUnsafeBufferPointer { all in
                body(UnsafeBufferPointer(rebasing: all[0..<Int(idEnd)]))
                body(UnsafeBufferPointer(rebasing: all[Int(idEnd)..<Int(userEnd)]))
                body(UnsafeBufferPointer(rebasing: all[Int(userEnd)..<Int(nameEnd)]))
                body(UnsafeBufferPointer(rebasing: all[Int(nameEnd)...]))
            }
        }

        var id: String { String(decoding: bytes[0..<Int(idEnd)], as: UTF8.self) }

        /// The name key (`sort_name`) or email key (`sort_email`).
        func key(_ sort: Sort) -> ArraySlice<UInt8> {
            sort == .name ? bytes[Int(userEnd)..<Int(nameEnd)] : bytes[Int(nameEnd)...]
        }

        /// Whether one of the four values contains `needle` (ASCII letters
        /// folded), as `marketplace_contains` answers.
        func contains(_ needle: UnsafeBufferPointer<UInt8>) -> Bool {
            bytes.withUnsafeBufferPointer { all in
                let id = Int(idEnd), user = Int(userEnd), name = Int(nameEnd)
                return TextSearchFunction.contains(UnsafeBufferPointer(rebasing: all[0..<id]), needle)
                    || TextSearchFunction.contains(UnsafeBufferPointer(rebasing: all[id..<user]), needle)
                    || TextSearchFunction.contains(UnsafeBufferPointer(rebasing: all[user..<name]), needle)
                    || TextSearchFunction.contains(UnsafeBufferPointer(rebasing: all[name...]), needle)
            }
        }
    }

    /// 512 bits: bit h(a, b, c) set for each three bytes a, b, c in a row,
    /// and bit h(a, b) for each two (with ~100 such sequences in a
    /// membership's values, about a fifth of the bits are set: a text of two
    /// bytes is wrongly taken as present about one time in five, a text of
    /// three, which needs three bits, about one time in a hundred; a text of
    /// one byte is never filtered).
    struct Signature: Sendable {
        var words = SIMD8<UInt64>(repeating: 0)

        mutating func add(_ bytes: UnsafeBufferPointer<UInt8>) {
            Self.forEachSequence(bytes) { add(hash: $0) }
        }

        /// Sets the bit of one sequence's hash (``forEachSequence(_:_:)``): its top 9 bits.
        @inline(__always)
        mutating func add(hash: UInt32) {
            set(hash >> 23)
        }

        @inline(__always)
        private mutating func set(_ bit: UInt32) {
            words[Int(bit >> 6)] |= 1 << UInt64(bit & 63)
        }

        /// Calls `body` with the 32-bit hash of each two- and three-byte
        /// sequence of `bytes` (ASCII letters folded); a signature keeps its
        /// top 9 bits, a block summary (``BlockSummaries``) its top 13.
        @inline(__always)
        static func forEachSequence(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (UInt32) -> Void) {
            guard bytes.count >= 2 else { return }
            for i in 0...(bytes.count - 2) {
                body(hash(bytes[i], bytes[i + 1]))
                if i + 2 < bytes.count { body(hash(bytes[i], bytes[i + 1], bytes[i + 2])) }
            }
        }

        @inline(__always)
        static func hash(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt32 {
            let f = TextSearchFunction.folded
            let packed = UInt32(f(a)) << 16 | UInt32(f(b)) << 8 | UInt32(f(c))
            return packed &* 0x9E37_79B1
        }

        /// Two bytes hashed apart from three (0xFF, never in UTF-8, as the first).
        @inline(__always)
        static func hash(_ a: UInt8, _ b: UInt8) -> UInt32 {
            hash(0xFF, a, b)
        }

        /// The words of this signature with a bit set, each with its bits,
        /// the word with the most bits first: a signature that lacks one of
        /// these bits usually lacks one of the first word's, so the scan
        /// mostly reads one word per entry (``Checks/passed(_:_:)``).
        var checks: Checks {
            var checks = Checks()
            for index in 0..<8 where words[index] != 0 {
                checks.append(word: index, bits: words[index])
            }
            return checks
        }

        /// What ``checks`` returns: at most eight (word, bits) pairs, in order.
        struct Checks {
            private(set) var count = 0
            private var words = SIMD8<UInt64>(repeating: 0)
            private var bits = SIMD8<UInt64>(repeating: 0)

            fileprivate mutating func append(word: Int, bits wordBits: UInt64) {
                var at = count
                while at > 0, bits[at - 1].nonzeroBitCount < wordBits.nonzeroBitCount {
                    words[at] = words[at - 1]
                    bits[at] = bits[at - 1]
                    at -= 1
                }
                words[at] = UInt64(word)
                bits[at] = wordBits
                count += 1
            }

            /// Whether every bit is set in the signature at `entry` of
            /// `signatures` (eight words per signature): the first word
            /// read, the others only if it passed.
            @inline(__always)
            func passed(_ signatures: UnsafeBufferPointer<UInt64>, _ entry: Int) -> Bool {
                let base = entry &* 8
                var check = 0
                while check < count {
                    let wanted = bits[check]
                    if signatures[base &+ Int(truncatingIfNeeded: words[check])] & wanted != wanted { return false }
                    check &+= 1
                }
                return true
            }
        }
    }

    enum Sort: Sendable { case name, email }

    /// For each block of ``size`` consecutive positions of an order, the
    /// sequences its entries hold, as 8,192 bits (top 13 bits of each
    /// sequence's hash): a rare text's scan passes over a block without one
    /// of the text's bits in a few nanoseconds instead of reading its 64
    /// signatures (memberships sharing a rare text, a surname, sit together in
    /// name order: "kow" is found in 2% of a 100,000-member account, and half
    /// of the account comes before the first one).
    struct BlockSummaries: Sendable {
        static let size = 64
        static let wordsPerBlock = 128
        /// Block b's words at b * wordsPerBlock.
        let words: [UInt64]

        init(words: [UInt64]) {
            self.words = words
        }

        /// The words of `count` entries' summaries, all zero.
        static func empty(_ count: Int) -> [UInt64] {
            [UInt64](repeating: 0, count: (count + size - 1) / size * wordsPerBlock)
        }

        /// Sets `hash`'s bit in the summary of the block holding `position`.
        @inline(__always)
        static func add(_ hash: UInt32, at position: Int32, to words: UnsafeMutableBufferPointer<UInt64>) {
            let bit = Int(hash >> 19)
            words[Int(position) / size * wordsPerBlock + bit >> 6] |= 1 << UInt64(bit & 63)
        }

        /// The (word, bits) of a block's summary that `needle` needs set: its
        /// sequences added as ``add(_:at:to:)`` adds an entry's (to block 0).
        static func checks(_ needle: UnsafeBufferPointer<UInt8>) -> [(word: Int, bits: UInt64)] {
            var wanted = [UInt64](repeating: 0, count: wordsPerBlock)
            wanted.withUnsafeMutableBufferPointer { wanted in
                Signature.forEachSequence(needle) { add($0, at: 0, to: wanted) }
            }
            return wanted.enumerated().compactMap { $0.element == 0 ? nil : ($0.offset, $0.element) }
        }
    }

    private struct Storage {
        var entries: [Entry]
        /// Positions in `entries` at the build, ordered by (name key, id) and
        /// (email key, id) as SQLite's BINARY collation orders them (bytes),
        /// with their block summaries; never changed after the build.
        let byName: [Int32]
        let byEmail: [Int32]
        let nameBlocks: BlockSummaries
        let emailBlocks: BlockSummaries
        /// Positions of the entries added since the build, in the same orders.
        var addedByName: [Int32] = []
        var addedByEmail: [Int32] = []
        /// `entries[n].signature` at n.
        var signatures: [Signature]
        var notes = 0
    }

    private let storage: Mutex<Storage>
    /// ``WriterPresence/opens()`` at the build: valid while unchanged.
    let opens: Int
    /// Entries at the build, and the memory estimate.
    let count: Int
    let bytes: Int
    /// ``MemberSearch``'s clock at the last use (least recently used goes first).
    let lastUse = Atomic<UInt64>(0)
    /// Entries added after the build before the index is dropped and built again.
    let rebuildAfterNotes: Int

    init(_ entries: [Entry], opens: Int) {
        precondition(MemoryLayout<Signature>.stride == 8 * MemoryLayout<UInt64>.stride, "candidates reads a signature as eight words")
        self.opens = opens
        let byName = Self.sorted(entries, .name)
        let byEmail = Self.sorted(entries, .email)
        // Each entry's sequences hashed once, for its signature and its two blocks' summaries.
        var signatures = [Signature](repeating: Signature(), count: entries.count)
        var nameWords = BlockSummaries.empty(entries.count), emailWords = BlockSummaries.empty(entries.count)
        var nameRank = [Int32](repeating: 0, count: entries.count), emailRank = nameRank
        for (position, at) in byName.enumerated() { nameRank[Int(at)] = Int32(position) }
        for (position, at) in byEmail.enumerated() { emailRank[Int(at)] = Int32(position) }
        nameWords.withUnsafeMutableBufferPointer { nameWords in
            emailWords.withUnsafeMutableBufferPointer { emailWords in
                for (at, entry) in entries.enumerated() {
                    var signature = Signature()
                    let name = nameRank[at], email = emailRank[at]
                    entry.forEachValue { value in
                        Signature.forEachSequence(value) { hash in
                            signature.add(hash: hash)
                            BlockSummaries.add(hash, at: name, to: nameWords)
                            BlockSummaries.add(hash, at: email, to: emailWords)
                        }
                    }
                    signatures[at] = signature
                }
            }
        }
        let nameBlocks = BlockSummaries(words: nameWords), emailBlocks = BlockSummaries(words: emailWords)
        storage = Mutex(Storage(
            entries: entries, byName: byName, byEmail: byEmail, nameBlocks: nameBlocks, emailBlocks: emailBlocks,
            signatures: signatures))
        count = entries.count
        // Per entry: its buffer (with the array header), the Entry, two
        // positions; and the block summaries.
        bytes = entries.reduce(0) { $0 + $1.bytes.count + 32 } + entries.count * (MemoryLayout<Entry>.stride + MemoryLayout<Signature>.stride + 8)
            + (nameBlocks.words.count + emailBlocks.words.count) * 8
        rebuildAfterNotes = max(1_000, entries.count / 2)
    }

    private static func sorted(_ entries: [Entry], _ sort: Sort) -> [Int32] {
        var order = (0..<Int32(entries.count)).map { $0 }
        order.sort { precedes(entries[Int($0)], entries[Int($1)], sort) }
        return order
    }

    /// (key, id) of `a` before that of `b`, comparing bytes.
    private static func precedes(_ a: Entry, _ b: Entry, _ sort: Sort) -> Bool {
        compare(a.key(sort), a.bytes[0..<Int(a.idEnd)], b.key(sort), b.bytes[0..<Int(b.idEnd)]) < 0
    }

    /// -1, 0, 1 as (key1, id1) sorts before, with, after (key2, id2).
    private static func compare(
        _ key1: ArraySlice<UInt8>, _ id1: ArraySlice<UInt8>, _ key2: ArraySlice<UInt8>, _ id2: ArraySlice<UInt8>
    ) -> Int {
        let keys = bytesCompare(key1, key2)
        return keys != 0 ? keys : bytesCompare(id1, id2)
    }

    private static func bytesCompare(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                let common = min(a.count, b.count)
                if common > 0 {
                    let order = memcmp(a.baseAddress!, b.baseAddress!, common)
                    if order != 0 { return order < 0 ? -1 : 1 }
                }
                return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
            }
        }
    }

    /// Entries added since the build.
    var notes: Int { storage.withLock { $0.notes } }

    /// Adds `entry` in both orders (of the entries added since the build);
    /// false once the index took ``rebuildAfterNotes`` entries (drop it, so
    /// that it is built again).
    func add(_ entry: Entry) -> Bool {
        storage.withLock { s in
            let position = Int32(s.entries.count)
            s.entries.append(entry)
            s.signatures.append(entry.signature)
            s.addedByName.insert(position, at: Self.insertionPoint(of: entry, in: s.addedByName, s.entries, .name))
            s.addedByEmail.insert(position, at: Self.insertionPoint(of: entry, in: s.addedByEmail, s.entries, .email))
            s.notes += 1
            return s.notes < rebuildAfterNotes
        }
    }

    /// Where `entry` goes in `order` (after its equals).
    private static func insertionPoint(of entry: Entry, in order: [Int32], _ entries: [Entry], _ sort: Sort) -> Int {
        var low = 0, high = order.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(entry, entries[Int(order[middle])], sort) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// A candidate of a page: its key (name or email key) and membership id.
    struct Candidate: Sendable, Equatable {
        let key: String
        let id: String
    }

    /// What one scan looks for: the text, its signature's checks, its
    /// block summaries' checks, and how far.
    private struct Scan {
        let needle: UnsafeBufferPointer<UInt8>
        let checks: Signature.Checks
        let blockChecks: [(word: Int, bits: UInt64)]
        let sort: Sort
        let descending: Bool
        let limit: Int
    }

    /// Up to `limit` entries, in `sort` order (reversed if `descending`),
    /// strictly after (`afterKey`, `afterID`) when given, whose values contain
    /// `text` (ASCII letters folded); fewer only when the order ends.
    func candidates(
        sort: Sort, descending: Bool, afterKey: String?, afterID: String?, text: String, limit: Int
    ) -> [Candidate] {
        let needle = Array(text.utf8)
        var wanted = Signature()
        needle.withUnsafeBufferPointer { wanted.add($0) }
        let checks = wanted.checks
        let blockChecks = needle.withUnsafeBufferPointer { BlockSummaries.checks($0) }
        let cursor = afterKey.flatMap { key in afterID.map { (Array(key.utf8)[...], Array($0.utf8)[...]) } }
        return storage.withLock { s in
            needle.withUnsafeBufferPointer { needle in
                let scan = Scan(needle: needle, checks: checks, blockChecks: blockChecks, sort: sort, descending: descending, limit: limit)
                let built = Self.scan(
                    sort == .name ? s.byName : s.byEmail, blocks: sort == .name ? s.nameBlocks : s.emailBlocks,
                    after: cursor, scan, s)
                let added = s.addedByName.isEmpty ? [] : Self.scan(
                    sort == .name ? s.addedByName : s.addedByEmail, blocks: nil, after: cursor, scan, s)
                // The two in one order: the first `limit` of both.
                var found: [Candidate] = []
                found.reserveCapacity(min(limit, built.count + added.count))
                var b = 0, a = 0
                while found.count < limit, b < built.count || a < added.count {
                    let takeBuilt: Bool
                    if a == added.count {
                        takeBuilt = true
                    } else if b == built.count {
                        takeBuilt = false
                    } else {
                        let x = s.entries[Int(built[b])], y = s.entries[Int(added[a])]
                        let order = Self.compare(x.key(sort), x.bytes[0..<Int(x.idEnd)], y.key(sort), y.bytes[0..<Int(y.idEnd)])
                        takeBuilt = descending ? order >= 0 : order <= 0
                    }
                    let entry = s.entries[Int(takeBuilt ? built[b] : added[a])]
                    if takeBuilt { b += 1 } else { a += 1 }
                    found.append(Candidate(key: String(decoding: entry.key(sort), as: UTF8.self), id: entry.id))
                }
                return found
            }
        }
    }

    /// Up to `scan.limit` positions in `entries` of `order`'s entries after
    /// `cursor` (key, id) that contain the needle, in order.
    private static func scan(
        _ order: [Int32], blocks: BlockSummaries?, after cursor: (key: ArraySlice<UInt8>, id: ArraySlice<UInt8>)?,
        _ scan: Scan, _ s: Storage
    ) -> [Int32] {
        var position: Int
        if let cursor {
            // First position whose (key, id) is after the cursor (ascending),
            // or the last before it (descending).
            var low = 0, high = order.count
            while low < high {
                let middle = (low + high) / 2
                let entry = s.entries[Int(order[middle])]
                let c = compare(entry.key(scan.sort), entry.bytes[0..<Int(entry.idEnd)], cursor.key, cursor.id)
                if scan.descending ? c < 0 : c <= 0 { low = middle + 1 } else { high = middle }
            }
            position = scan.descending ? low - 1 : low
        } else {
            position = scan.descending ? order.count - 1 : 0
        }
        var found: [Int32] = []
        let step = scan.descending ? -1 : 1
        let checks = scan.checks
        let size = BlockSummaries.size
        let filtered = blocks != nil && !scan.blockChecks.isEmpty
        (blocks?.words ?? []).withUnsafeBufferPointer { summaries in
            s.signatures.withUnsafeBufferPointer { signatures in
                signatures.withMemoryRebound(to: UInt64.self) { signatures in
                    order.withUnsafeBufferPointer { order in
                        while found.count < scan.limit, position >= 0, position < order.count {
                            // To the end of the order, or of this block if it may hold the text.
                            var run = scan.descending ? position + 1 : order.count - position
                            if filtered {
                                let block = position / size
                                let base = block * BlockSummaries.wordsPerBlock
                                let first = block * size
                                guard scan.blockChecks.allSatisfy({ summaries[base + $0.word] & $0.bits == $0.bits }) else {
                                    position = scan.descending ? first - 1 : first + size
                                    continue
                                }
                                run = scan.descending ? position - first + 1 : min(first + size, order.count) - position
                            }
                            while run > 0, found.count < scan.limit {
                                let at = Int(order[position])
                                if checks.passed(signatures, at), s.entries[at].contains(scan.needle) {
                                    found.append(Int32(at))
                                }
                                position += step
                                run -= 1
                            }
                        }
                    }
                }
            }
        }
        return found
    }
}
