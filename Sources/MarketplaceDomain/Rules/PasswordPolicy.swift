/// The password rule of domain.md: at least 8 characters with a lowercase
/// letter, an uppercase letter, a digit and a special character.
public enum PasswordPolicy {
    /// The shortest password accepted.
    public static let minimumLength = 8
    /// The longest password accepted (bounds hashing work).
    public static let maximumLength = 1024

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
        if password.count > maximumLength {
            throw .invalidArgument("\(field) must be at most \(maximumLength) characters long")
        }
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
