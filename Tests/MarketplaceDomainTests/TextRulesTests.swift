import Foundation
import Testing

@testable import MarketplaceDomain

/// Issue 10, items 3 and 8: limits in bytes as well as characters; controls,
/// bidi overrides and invisible-only names refused, naming the field.
@Suite struct TextRulesTests {
    private func message(_ body: () throws -> Any) -> String? {
        do {
            _ = try body()
            return nil
        } catch let error as DomainError {
            #expect(error.kind == .invalidArgument)
            return error.message
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test func limitsHoldInBytes() {
        let zalgo = "a" + String(repeating: "\u{301}", count: 950_000)
        #expect(zalgo.count == 1)
        #expect(message { try Validation.requiredText(zalgo, field: "name", maxLength: 200) }
            == "name: must be at most 200 characters and 800 bytes (got 1900001 bytes)")
        // 100 four-byte characters fit both limits; one more byte does not.
        let emoji = String(repeating: "😀", count: 100)
        #expect(throws: Never.self) { try Validation.requiredText(emoji, field: "first_name") }
        #expect(message { try Validation.requiredText(emoji + "a", field: "first_name") }?.hasPrefix("first_name: must be at most 100 characters and 400 bytes") == true)
        #expect(message { try Validation.optionalText(zalgo, field: "query", maxLength: 200) }?.hasPrefix("query: ") == true)
        #expect(message { try Validation.icon(zalgo) }?.hasPrefix("icon: ") == true)
        #expect(message { try Validation.phone(zalgo) as Any }?.hasPrefix("phone: ") == true)
        #expect(message { try Validation.email(String(repeating: "a", count: 2_000_000)) }?.hasPrefix("email: ") == true)
    }

    @Test func controlsBidiAndInvisibleNames() {
        let refused: [(String, String)] = [
            ("Acme\u{0}Evil", "control"), ("Acme\u{1B}[2J", "control"), ("Acme\u{7F}", "control"),
            ("Acme\u{85}x", "control"), ("Acme\u{9B}x", "control"), ("Ac\nme", "control"),
            ("Acme\u{202E}evil", "bidirectional"), ("Acme\u{2066}x\u{2069}", "bidirectional"), ("\u{202A}x", "bidirectional"),
            ("\u{200B}", "visible"), ("\u{200B}\u{200D}\u{FEFF}", "visible"), ("\u{3164}", "visible"), ("\u{00A0}\u{200B}\u{2060}", "visible"),
        ]
        for (name, why) in refused {
            let text = message { try Validation.requiredText(name, field: "name") }
            #expect(text?.hasPrefix("name: ") == true && text?.contains(why) == true, "\(name.unicodeScalars.map { $0.value }): \(String(describing: text))")
            // The message never echoes the raw text.
            #expect(text?.contains("Acme") != true)
        }
        for name in ["Zoë", "李小龍", "O'Brien-Smith", "محمد\u{200F}", "Ada 😀"] {
            #expect(throws: Never.self) { try Validation.requiredText(name, field: "name") }
        }
        // Descriptions may have line breaks, but nothing else of the kind.
        #expect(throws: Never.self) { try Validation.optionalText("line one\nline\ttwo", field: "description", maxLength: 1000, allowsLineBreaks: true) }
        #expect(message { try Validation.optionalText("x\u{0}y", field: "description", maxLength: 1000, allowsLineBreaks: true) }?.contains("control") == true)
        #expect(message { try Validation.optionalText("x\u{202E}y", field: "reason", maxLength: 500) }?.hasPrefix("reason: ") == true)
    }

    @Test func passwordsAreCappedInBytes() {
        let long = String(repeating: "é", count: 600)  // 600 characters, 1,200 bytes
        #expect(message { try PasswordPolicy.checkLength(long) } == "password: must be at most 1024 bytes (UTF-8) long (got 1200)")
        #expect(message { try PasswordPolicy.check("Aa1!" + long, field: "new_password") }?.hasPrefix("new_password: must be at most 1024 bytes") == true)
        #expect(throws: Never.self) { try PasswordPolicy.checkLength(String(repeating: "a", count: 1024)) }
    }
}

/// Issue 10 item 7 / issue 11 item 7: sealed page tokens bound to their query.
@Suite struct PageTokenTests {
    @Test func sealedBoundAndSmall() throws {
        let directory = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let secrets = try Secrets(configuration: .inDataDirectory(directory, passwordParameters: .minimum, hashingThreads: 1))
        let tokens = PageToken(secrets: secrets)
        let token = tokens.encode(tag: "members\u{1F}ACC-1\u{1F}name", ["", "AUSR-1234-5678-9012"])
        #expect(token.utf8.count < 200)
        // Never taken for a command-line option: every token starts "pt_" (a bare
        // base64url token starts with "-" one time in 64).
        for _ in 0..<256 { #expect(tokens.encode(tag: "t", ["1"]).hasPrefix("pt_")) }
        #expect(try tokens.decode(token, tag: "members\u{1F}ACC-1\u{1F}name", fieldCount: 2) == ["", "AUSR-1234-5678-9012"])
        do {
            _ = try tokens.decode(token, tag: "members\u{1F}ACC-1\u{1F}email", fieldCount: 2)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.message.hasPrefix("page_token was not issued for this query"))
        }
        // Tampered, forged (the old clear format) or oversized tokens are malformed.
        var bytes = Array(token.utf8)
        bytes[10] = bytes[10] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        for bad in [String(decoding: bytes, as: UTF8.self), "bWVtYmVyczpBQ0M", String(repeating: "A", count: 10_000)] {
            #expect(throws: DomainError.self) { try tokens.decode(bad, tag: "members\u{1F}ACC-1\u{1F}name", fieldCount: 2) }
        }
        // Another key (another installation) cannot open it.
        let other = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: other) }
        let stranger = PageToken(secrets: try Secrets(configuration: .inDataDirectory(other, passwordParameters: .minimum, hashingThreads: 1)))
        #expect(throws: DomainError.self) { try stranger.decode(token, tag: "members\u{1F}ACC-1\u{1F}name", fieldCount: 2) }
    }
}
