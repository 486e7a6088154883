import Foundation
@testable import MarketplaceDomain
import Testing

/// The tokens' base64url (no padding, strict) against Foundation's base64.
@Suite struct Base64URLTests {
    /// What Base64URL was before it was written out over bytes.
    static func reference(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    @Test("encodes as Foundation's base64 made URL-safe and unpadded; decodes back; every length 0-100")
    func roundTrips() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...100 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let text = Base64URL.encode(bytes)
                #expect(text == Self.reference(bytes), "\(bytes)")
                if length > 0 { #expect(Base64URL.decode(text) == bytes, "\(text)") }
            }
        }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
    }

    @Test("refuses what is not the one spelling: other alphabets, padding, stray bits, impossible lengths, over 4 KiB")
    func refuses() {
        for text in ["", "+_8", "/w", "AA==", "AA=", "A", "AAAAA", "AB", "AAB", "AA A", "AÅ", "\u{0}AA", String(repeating: "A", count: 4100)] {
            #expect(Base64URL.decode(text) == nil, "\(text)")
        }
        #expect(Base64URL.decode("AA") == [0])
        #expect(Base64URL.decode("AAA") == [0, 0])
        #expect(Base64URL.decode("AAAA") == [0, 0, 0])
        #expect(Base64URL.decode(String(repeating: "A", count: 4096))?.count == 3072)
    }
}
