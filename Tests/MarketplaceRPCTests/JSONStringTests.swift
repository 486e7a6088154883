import Foundation
import MarketplaceProtos
import Testing

/// The one JSON string escaping of the project (CLI `call` output, daemon JSON logs).
@Suite("JSON string literals")
struct JSONStringTests {
    @Test("quotes, backslashes and every control character are escaped; the result parses back to the input")
    func controlCharacters() throws {
        #expect(JSONString.quoted("plain") == "\"plain\"")
        #expect(JSONString.quoted("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONString.quoted("l1\nl2\r\tx") == #""l1\nl2\r\tx""#)
        #expect(JSONString.quoted("\u{0}\u{1}\u{8}\u{c}\u{1b}\u{1f}") == #""\u0000\u0001\u0008\u000c\u001b\u001f""#)
        #expect(JSONString.quoted("") == "\"\"")
        // Every scalar below U+0020, one by one: escaped, never raw, and JSON
        // readers give the same string back.
        for value in UInt32(0)..<0x20 {
            let input = "x" + String(Unicode.Scalar(value)!) + "y"
            let quoted = JSONString.quoted(input)
            #expect(!quoted.unicodeScalars.contains { $0.value < 0x20 }, "raw control character \(value) in \(quoted)")
            let parsed = try JSONSerialization.jsonObject(with: Data(quoted.utf8), options: .fragmentsAllowed) as? String
            #expect(parsed == input, "U+\(String(value, radix: 16)) does not round-trip: \(quoted)")
        }
    }

    @Test("non-ASCII is kept as UTF-8, unescaped, and round-trips (accents, CJK, emoji, RTL, U+2028)")
    func nonASCII() throws {
        for input in ["Zoë Ångström", "山田太郎", "👩🏽‍💻 ok", "مرحبا", "line\u{2028}sep", "\u{7f}del", "e\u{301}"] {
            let quoted = JSONString.quoted(input)
            #expect(quoted == "\"" + input + "\"", "changed: \(quoted)")
            let parsed = try JSONSerialization.jsonObject(with: Data(quoted.utf8), options: .fragmentsAllowed) as? String
            #expect(parsed == input)
        }
    }
}
