import GRDB
import GRDBSQLite

/// The SQL function `marketplace_contains(text, a, b, c, d)`: 1 when `text`
/// occurs in one of `a`, `b`, `c`, `d`, ASCII letters compared without case,
/// every other byte as is; 0 otherwise (and when an argument is NULL).
///
/// The member listing's text query (``AccountUserQuery/text``) is that
/// match on the membership id, user id, name key and email key. It was
/// `a LIKE '%text%' ESCAPE '\' OR b LIKE ...`, which answers the same: SQLite's
/// LIKE folds ASCII letters only and compares other characters exactly, and
/// on UTF-8 a run of whole characters occurs in a text exactly where its bytes
/// do. The four LIKEs were ~70% of the cost of scanning a large account's
/// name index; this is one call per row, with no pattern or escape to parse.
/// TextSearchTests compares the two on random texts.
enum TextSearchFunction {
    static let name = "marketplace_contains"

    /// Registers the function on `db` (every connection of a store).
    static func register(_ db: Database) throws {
        let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS
        let code = sqlite3_create_function_v2(db.sqliteConnection, name, 5, flags, nil, marketplaceContains, nil, nil, nil)
        guard code == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot register \(name)")
        }
    }

    /// Whether `needle` occurs in `haystack`, ASCII letters without case.
    static func contains(
        _ haystack: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        let n = needle.count
        guard n > 0 else { return true }
        guard haystack.count >= n else { return false }
        let first = folded(needle[0])
        var start = 0
        let last = haystack.count - n
        while start <= last {
            if folded(haystack[start]) == first {
                var k = 1
                while k < n, folded(haystack[start + k]) == folded(needle[k]) { k += 1 }
                if k == n { return true }
            }
            start += 1
        }
        return false
    }

    /// `byte` with an ASCII capital letter made small.
    @inline(__always)
    static func folded(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }
}

/// The C entry point of ``TextSearchFunction``: argument 0 the text, 1...4
/// the values searched.
private func marketplaceContains(
    _ context: OpaquePointer?, _ count: Int32, _ arguments: UnsafeMutablePointer<OpaquePointer?>?
) {
    guard let arguments, count == 5, let needle = text(arguments[0]) else {
        sqlite3_result_int(context, 0)
        return
    }
    for index in 1..<5 {
        if let haystack = text(arguments[index]), TextSearchFunction.contains(haystack, needle) {
            sqlite3_result_int(context, 1)
            return
        }
    }
    sqlite3_result_int(context, 0)
}

/// An argument's UTF-8 bytes (valid until the function returns); nil for NULL.
private func text(_ value: OpaquePointer?) -> UnsafeBufferPointer<UInt8>? {
    guard sqlite3_value_type(value) != SQLITE_NULL, let bytes = sqlite3_value_text(value) else { return nil }
    return UnsafeBufferPointer(start: bytes, count: Int(sqlite3_value_bytes(value)))
}
