/// JSON string literals (RFC 8259 §7), shared by every place that writes JSON
/// by hand: the CLI's protobuf JSON mapping (`call`) and the daemon's JSON log
/// lines. Both executables reach this module (the CLI through the client), so
/// there is one escaping to get right.
public enum JSONString {
    /// `string` as a JSON string literal, quotes included: `"` and `\` are
    /// escaped, newline, carriage return and tab as `\n`, `\r`, `\t`, every
    /// other control character below U+0020 as `\u00XX`; everything else
    /// (non-ASCII included) is kept as it is, in UTF-8.
    public static func quoted(_ string: String) -> String {
        var out = "\""
        out.reserveCapacity(string.utf8.count + 2)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
