/// The password rule of domain.md: at least 8 characters with a lowercase
/// letter, an uppercase letter, a digit and a special character.
public enum PasswordPolicy {
    /// The shortest password accepted.
    public static let minimumLength = 8
    /// The longest password accepted, in UTF-8 bytes (bounds hashing work).
    /// Checked before any hashing, on every path that checks or sets a password.
    public static let maximumBytes = 1024
    /// The longest password accepted in characters (a character is at least a byte).
    public static let maximumLength = maximumBytes

    /// Checks that `password` is at most ``maximumBytes`` UTF-8 bytes.
    public static func checkLength(_ password: String, field: String = "password") throws(DomainError) {
        let bytes = password.utf8.count
        guard bytes <= maximumBytes else {
            throw .invalidArgument("\(field): must be at most \(maximumBytes) bytes (UTF-8) long (got \(bytes))")
        }
    }

    /// What a password lacks; empty when it meets the rule.
    public static func missingElements(_ password: String) -> [String] {
        var missing: [String] = []
        if !password.contains(where: { $0.isLowercase }) { missing.append("a lowercase letter") }
        if !password.contains(where: { $0.isUppercase }) { missing.append("an uppercase letter") }
        if !password.contains(where: { $0.isNumber }) { missing.append("a digit") }
        if !password.contains(where: { !$0.isLetter && !$0.isNumber && !$0.isWhitespace }) {
            missing.append("a special character")
        }
        return missing
    }

    /// Checks `password`; throws ``DomainError/Kind/invalidArgument`` with a
    /// message naming every missing element, e.g. "password must be at least 8
    /// characters long and contain an uppercase letter and a special character".
    public static func check(_ password: String, field: String = "password") throws(DomainError) {
        try checkLength(password, field: field)
        let tooShort = password.count < minimumLength
        let missing = missingElements(password)
        guard tooShort || !missing.isEmpty else { return }
        var clauses: [String] = []
        if tooShort { clauses.append("be at least \(minimumLength) characters long") }
        if !missing.isEmpty { clauses.append("contain " + joinedList(missing)) }
        throw .invalidArgument("\(field) must " + clauses.joined(separator: " and "))
    }

    static func joinedList(_ items: [String]) -> String {
        switch items.count {
        case 0: ""
        case 1: items[0]
        default: items.dropLast().joined(separator: ", ") + " and " + items.last!
        }
    }
}
