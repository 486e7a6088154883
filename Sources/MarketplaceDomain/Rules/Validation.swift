import Foundation

/// Field validation with messages that name the field. Each function returns
/// the normalised value or throws ``DomainError/Kind/invalidArgument``.
public enum Validation {
    /// The longest first or last name accepted.
    public static let maxNameLength = 100
    /// The longest account or group name accepted.
    public static let maxEntityNameLength = 200
    /// The default and largest page sizes.
    public static let defaultPageSize = 50
    public static let maxPageSize = 500

    /// Trims and lowercases `email` and checks its syntax.
    public static func email(_ raw: String, field: String = "email") throws(DomainError) -> String {
        guard raw.utf8.count <= 1024 else { throw .invalidArgument("\(field): must be at most 254 characters") }
        let email = raw.trimmingWhitespace().lowercased()
        guard !email.isEmpty else { throw .invalidArgument("\(field): is required") }
        guard email.utf8.count <= 254 else { throw .invalidArgument("\(field): must be at most 254 characters") }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw .invalidArgument("\(field): \"\(TextRules.echo(email.prefix(80)))\" is not a valid email address (expected one @)")
        }
        let local = parts[0], domain = parts[1]
        let localAllowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.!#$%&'*+/=?^_`{|}~-")
        guard !local.isEmpty, local.utf8.count <= 64, local.allSatisfy({ localAllowed.contains($0) }),
            !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..")
        else {
            throw .invalidArgument("\(field): \"\(TextRules.echo(email.prefix(80)))\" is not a valid email address (bad part before @)")
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        let labelAllowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        guard labels.count >= 2,
            labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && $0.allSatisfy { labelAllowed.contains($0) } && !$0.hasPrefix("-") && !$0.hasSuffix("-") })
        else {
            throw .invalidArgument("\(field): \"\(TextRules.echo(email.prefix(80)))\" is not a valid email address (bad domain after @)")
        }
        return email
    }

    /// Trims `raw` and checks it is non-empty, at most `maxLength` characters
    /// and ``maxBytes(forCharacters:)`` UTF-8 bytes, free of control and bidi
    /// override characters, and not only invisible characters (``TextRules``).
    public static func requiredText(_ raw: String, field: String, maxLength: Int = maxNameLength) throws(DomainError) -> String {
        try TextRules.checkSize(raw, field: field, maxLength: maxLength)
        let value = raw.trimmingWhitespace()
        guard !value.isEmpty else { throw .invalidArgument("\(field): must not be empty") }
        try TextRules.checkCharacters(value, field: field)
        try TextRules.checkVisible(value, field: field)
        return value
    }

    /// Trims `raw` and checks it is at most `maxLength` characters and
    /// ``maxBytes(forCharacters:)`` UTF-8 bytes (may be empty), free of control
    /// characters (line feeds and tabs allowed with `allowsLineBreaks`) and
    /// bidi override characters.
    public static func optionalText(_ raw: String, field: String, maxLength: Int, allowsLineBreaks: Bool = false) throws(DomainError) -> String {
        try TextRules.checkSize(raw, field: field, maxLength: maxLength)
        let value = raw.trimmingWhitespace()
        try TextRules.checkCharacters(value, field: field, allowsLineBreaks: allowsLineBreaks)
        return value
    }

    /// The byte limit that goes with a limit of `characters` characters: 4
    /// bytes a character, so that every text limit holds in both.
    public static func maxBytes(forCharacters characters: Int) -> Int { 4 * characters }

    /// Normalises a phone number to `+<digits>`: a country prefix (`+` and 1-3
    /// digits) and the number, 8 to 15 digits in all (E.164); spaces, dots,
    /// dashes and parentheses are ignored. Empty or `nil` means no phone.
    public static func phone(_ raw: String?, field: String = "phone") throws(DomainError) -> String? {
        guard let raw else { return nil }
        try TextRules.checkSize(raw, field: field, maxLength: 64)
        let trimmed = raw.trimmingWhitespace()
        if trimmed.isEmpty { return nil }
        guard trimmed.hasPrefix("+") else {
            throw .invalidArgument("\(field): must start with a country prefix such as +33 followed by the number")
        }
        var digits = ""
        for c in trimmed.dropFirst() {
            if c.isASCII && c.isNumber {
                digits.append(c)
            } else if c == " " || c == "-" || c == "." || c == "(" || c == ")" {
                continue
            } else {
                throw .invalidArgument("\(field): may contain only digits after the + prefix (found \(TextRules.describe(c)))")
            }
        }
        guard digits.count >= 8, digits.count <= 15, !digits.hasPrefix("0") else {
            throw .invalidArgument("\(field): must have a country prefix and number of 8 to 15 digits in all, not starting with 0 (got \(digits.count) digits)")
        }
        return "+" + digits
    }

    /// The longest language or locale tag accepted.
    public static let maxLanguageTagLength = 35
    /// The longest icon (name or URL) accepted.
    public static let maxIconLength = 500

    /// Checks a language or locale tag such as `en`, `fr-CA`, `zh-Hant-TW` or
    /// `en_US`, returned in canonical case with hyphens: a 2-3 letter language,
    /// then subtags of 1-8 letters or digits (4 letters: a script, `Hant`;
    /// 2 letters: a region, `CA`).
    public static func languageTag(_ raw: String, field: String) throws(DomainError) -> String {
        try TextRules.checkSize(raw, field: field, maxLength: maxLanguageTagLength)
        let value = raw.trimmingWhitespace()
        guard !value.isEmpty else { throw .invalidArgument("\(field): must not be empty") }
        let invalid = DomainError.invalidArgument("\(field): \"\(TextRules.echo(value.prefix(40)))\" is not a language tag such as en or fr-CA")
        guard value.count <= maxLanguageTagLength else {
            throw .invalidArgument("\(field): must be at most \(maxLanguageTagLength) characters (got \(value.count))")
        }
        let subtags = value.split(omittingEmptySubsequences: false) { $0 == "-" || $0 == "_" }
        guard let language = subtags.first, (2...3).contains(language.count), language.allSatisfy({ $0.isASCII && $0.isLetter }) else { throw invalid }
        var result = [language.lowercased()]
        for subtag in subtags.dropFirst() {
            guard (1...8).contains(subtag.count), subtag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { throw invalid }
            switch subtag.count {
            case 2 where subtag.allSatisfy(\.isLetter): result.append(subtag.uppercased())
            case 4 where subtag.allSatisfy(\.isLetter): result.append(subtag.prefix(1).uppercased() + subtag.dropFirst().lowercased())
            default: result.append(subtag.lowercased())
            }
        }
        return result.joined(separator: "-")
    }

    /// Checks an icon: empty (none), a short name without spaces, or an
    /// `https://` URL, at most 500 characters.
    public static func icon(_ raw: String, field: String = "icon") throws(DomainError) -> String {
        try TextRules.checkSize(raw, field: field, maxLength: maxIconLength)
        let value = raw.trimmingWhitespace()
        guard value.count <= maxIconLength else {
            throw .invalidArgument("\(field): must be at most \(maxIconLength) characters (got \(value.count))")
        }
        guard !value.contains(where: { $0.isWhitespace || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } }) else {
            throw .invalidArgument("\(field): must not contain spaces or control characters")
        }
        if value.contains(":") {
            guard value.lowercased().hasPrefix("https://"), let url = URL(string: value), url.host?.isEmpty == false else {
                throw .invalidArgument("\(field): a URL must be an https:// address")
            }
        }
        return value
    }

    /// The page size to use: 0 means the default (50); otherwise 1...500.
    public static func pageSize(_ requested: Int, field: String = "page_size") throws(DomainError) -> Int {
        if requested == 0 { return defaultPageSize }
        guard (1...maxPageSize).contains(requested) else {
            throw .invalidArgument("\(field): must be between 1 and \(maxPageSize) (got \(requested))")
        }
        return requested
    }

    /// Checks a non-empty list of group ids, dropping duplicates but keeping order.
    public static func groupIDs(_ ids: [String], field: String = "group_ids") throws(DomainError) -> [String] {
        guard !ids.isEmpty else { throw .invalidArgument("\(field): at least one group is required") }
        var seen = Set<String>()
        var result: [String] = []
        for (index, id) in ids.enumerated() {
            try EntityKind.group.validate(id, field: "\(field)[\(index)]")
            if seen.insert(id).inserted { result.append(id) }
        }
        return result
    }

    /// Checks permissions: each non-empty, at most 100 characters, at most 200 in all.
    public static func permissions(_ raw: [String], field: String = "permissions") throws(DomainError) -> [String] {
        guard raw.count <= 200 else { throw .invalidArgument("\(field): at most 200 permissions (got \(raw.count))") }
        var seen = Set<String>()
        var result: [String] = []
        for (index, p) in raw.enumerated() {
            let value = try requiredText(p, field: "\(field)[\(index)]", maxLength: 100)
            if seen.insert(value).inserted { result.append(value) }
        }
        return result
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
