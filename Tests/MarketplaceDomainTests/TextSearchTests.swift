import GRDB
@testable import MarketplaceSQLite
import Testing

/// The member listing's text match on SQLite (`marketplace_contains`)
/// against what it replaced and what the PostgreSQL backend still runs:
/// `LIKE '%text%' ESCAPE '\'` on each value, SQLite's own LIKE as the oracle.
@Suite struct TextSearchTests {
    /// ASCII letters of both cases, LIKE's wildcards and escape, the name
    /// key's separator, and characters whose case SQLite's LIKE does not fold
    /// (accented, ß, dotted and dotless i, outside the BMP).
    static let alphabet = ["a", "A", "k", "K", "o", "%", "_", "\\", "\u{1}", "-", "0", "@", ".", " ", "é", "É", "ß", "İ", "ı", "😀"]

    @Test("marketplace_contains answers as LIKE '%text%' on each of four values, on random texts")
    func agreesWithLike() throws {
        let db = try DatabaseQueue()
        try db.inDatabase { db in try TextSearchFunction.register(db) }
        var generator = SystemRandomNumberGenerator()
        func text(_ lengths: ClosedRange<Int>) -> String {
            (0..<Int.random(in: lengths, using: &generator)).map { _ in Self.alphabet.randomElement(using: &generator)! }.joined()
        }
        var matched = 0
        try db.inDatabase { db in
            for _ in 0..<4_000 {
                let needle = text(1...3)
                let values = (0..<4).map { _ in text(0...10) }
                let pattern = "%" + needle.replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
                let like = try Bool.fetchOne(db, sql: """
                    SELECT ?1 LIKE ?5 ESCAPE '\\' OR ?2 LIKE ?5 ESCAPE '\\' OR ?3 LIKE ?5 ESCAPE '\\' OR ?4 LIKE ?5 ESCAPE '\\'
                    """, arguments: [values[0], values[1], values[2], values[3], pattern])
                let function = try Bool.fetchOne(
                    db, sql: "SELECT marketplace_contains(?, ?, ?, ?, ?)", arguments: StatementArguments([needle] + values))
                #expect(function == like, "text \(Array(needle.unicodeScalars)) in \(values.map { Array($0.unicodeScalars) })")
                if like == true { matched += 1 }
            }
        }
        // Both answers occur often enough for the comparison to mean something.
        #expect(matched > 400 && matched < 3_600, "\(matched) of 4,000 matched")
    }

    @Test("cases named: case folds for ASCII letters only; wildcards and NULL are plain")
    func namedCases() throws {
        let db = try DatabaseQueue()
        try db.inDatabase { db in try TextSearchFunction.register(db) }
        func contains(_ needle: String?, _ values: [String?]) throws -> Int? {
            try db.inDatabase { db in
                try Int.fetchOne(db, sql: "SELECT marketplace_contains(?, ?, ?, ?, ?)", arguments: StatementArguments([needle] + values))
            }
        }
        #expect(try contains("kow", ["AUSR-0000-0001-0002", "USR-0001-0002", "kowalski\u{1}jan", "jan@example.com"]) == 1)
        #expect(try contains("ausr-0000-0001", ["AUSR-0000-0001-0002", "", "", ""]) == 1)
        #expect(try contains("KOW", ["", "", "", "kowalski"]) == 1)
        #expect(try contains("é", ["", "", "", "É"]) == 0)
        #expect(try contains("%", ["", "abc", "", ""]) == 0)
        #expect(try contains("_", ["a_b", "", "", ""]) == 1)
        #expect(try contains("abcd", ["abc", "bcd", "", ""]) == 0)
        #expect(try contains("ab", [nil, "xab", nil, nil]) == 1)
        #expect(try contains(nil, ["ab", "ab", "ab", "ab"]) == 0)
        #expect(try contains("ali", ["", "", "", "ali"]) == 1)
    }
}
