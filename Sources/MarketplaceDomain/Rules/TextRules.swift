/// The rules every piece of free text that comes in obeys (names,
/// descriptions, queries, reasons, permissions), besides its own format:
///
/// - **Size in characters and bytes.** A limit of N characters is also a limit
///   of 4×N UTF-8 bytes, checked first (cheaply), so that one "character"
///   made of a letter and a million combining marks is refused.
/// - **No control characters:** C0 (NUL included), DEL and C1 (U+0080-U+009F);
///   line feed and tab only where a field allows line breaks.
/// - **No bidirectional embedding, override or isolate controls**
///   (U+202A-U+202E, U+2066-U+2069), which make text display in another order
///   than it is stored.
/// - **Names are visible:** a name that is empty once invisible characters
///   (whitespace, format characters such as U+200B, default-ignorable code
///   points) are removed is refused.
///
/// Every refusal is ``DomainError/Kind/invalidArgument`` naming the field, and
/// never echoes the offending text.
enum TextRules {
    /// Checks `value`'s size: bytes first, then characters.
    static func checkSize(_ value: String, field: String, maxLength: Int) throws(DomainError) {
        let maxBytes = Validation.maxBytes(forCharacters: maxLength)
        let bytes = value.utf8.count
        guard bytes <= maxBytes else {
            throw .invalidArgument("\(field): must be at most \(maxLength) characters and \(maxBytes) bytes (got \(bytes) bytes)")
        }
        let characters = value.count
        guard characters <= maxLength else {
            throw .invalidArgument("\(field): must be at most \(maxLength) characters and \(maxBytes) bytes (got \(characters) characters)")
        }
    }

    /// Whether `scalar` is a bidirectional embedding, override or isolate control.
    static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }

    /// Checks that `value` has no control or bidi control characters.
    static func checkCharacters(_ value: String, field: String, allowsLineBreaks: Bool = false) throws(DomainError) {
        for scalar in value.unicodeScalars {
            if scalar.properties.generalCategory == .control {
                if allowsLineBreaks && (scalar == "\n" || scalar == "\t") { continue }
                throw .invalidArgument("\(field): must not contain control characters (found \(hex(scalar)))")
            }
            if isBidiControl(scalar) {
                throw .invalidArgument("\(field): must not contain bidirectional override or isolate characters (found \(hex(scalar)))")
            }
        }
    }

    /// Whether `scalar` shows nothing by itself.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        switch properties.generalCategory {
        case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator: return true
        default: return properties.isWhitespace || properties.isDefaultIgnorableCodePoint
        }
    }

    /// Checks that `value` has at least one visible character.
    static func checkVisible(_ value: String, field: String) throws(DomainError) {
        guard value.unicodeScalars.contains(where: { !isInvisible($0) }) else {
            throw .invalidArgument("\(field): must contain a visible character, not only invisible ones")
        }
    }

    /// `U+XXXX` for a scalar.
    static func hex(_ scalar: Unicode.Scalar) -> String {
        let digits = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// `text` made safe to quote in an error message: control, bidi and
    /// invisible characters shown as `U+XXXX`.
    static func echo<S: StringProtocol>(_ text: S) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control || isBidiControl(scalar) || (isInvisible(scalar) && scalar != " ") {
                out += "<" + hex(scalar) + ">"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A character for an error message: quoted when printable, else its code points.
    static func describe(_ character: Character) -> String {
        if character.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || isBidiControl($0) || isInvisible($0) }) {
            return character.unicodeScalars.map(hex).joined(separator: " ")
        }
        return "\"\(character)\""
    }
}
