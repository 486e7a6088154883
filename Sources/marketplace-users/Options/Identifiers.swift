import ArgumentParser
import Foundation
import MarketplaceClient

/// The platform's id formats, checked before any call so a typo is a usage
/// error (exit 64) that shows the expected form.
enum IDKind: String {
    case account = "ACC"
    case group = "UGR"
    case user = "USR"
    case accountUser = "AUSR"

    var example: String { self == .accountUser ? "AUSR-1234-5678-9012" : "\(rawValue)-1234-5678" }

    func isValid(_ id: String) -> Bool {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == (self == .accountUser ? 4 : 3), parts[0] == rawValue else { return false }
        return parts.dropFirst().allSatisfy { $0.count == 4 && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// Throws a `ValidationError` naming `what` (e.g. "--account") unless `id` has this form.
    func check(_ id: String, _ what: String) throws {
        guard isValid(id) else {
            throw ValidationError("\(what): \"\(id)\" is not a valid id; expected the form \(example)")
        }
    }
}

/// Phone numbers as typed: a country prefix and the number, e.g.
/// `+44 20 7123 4567`; spaces, dashes, dots and parentheses are ignored.
/// The same rule as the server's, so a CSV row is checked before inviting anyone.
enum PhoneParsing {
    /// The number as `+` and digits; nil for an empty string. Throws a message for a bad one.
    static func parse(_ text: String) throws(CLIFailure) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return nil }
        func bad(_ why: String) -> CLIFailure {
            CLIFailure("phone \"\(trimmed)\": \(why), e.g. \"+44 20 7123 4567\"", exitStatus: CLIErrors.ExitStatus.usage)
        }
        guard trimmed.hasPrefix("+") else { throw bad("must start with a country prefix such as +44") }
        var digits = ""
        for c in trimmed.dropFirst() {
            if c.isASCII && c.isNumber { digits.append(c) }
            else if !" -.()".contains(c) { throw bad("may contain only digits after the +") }
        }
        guard (8...15).contains(digits.count), !digits.hasPrefix("0") else {
            throw bad("needs 8 to 15 digits in all, not starting with 0")
        }
        return "+" + digits
    }
}

/// An invitation token, or the whole link it ends.
enum InvitationToken {
    static func from(_ tokenOrLink: String) -> String {
        var text = tokenOrLink.trimmingCharacters(in: .whitespacesAndNewlines)
        while text.hasSuffix("/") { text.removeLast() }
        if let slash = text.lastIndex(of: "/") { text = String(text[text.index(after: slash)...]) }
        if let query = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = String(text[..<query]) }
        return text
    }
}
