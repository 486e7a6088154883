import Foundation

/// The one formatter of the CLI's output: JSON for scripts, aligned tables and
/// detail views for people. Data goes to stdout; progress, hints and errors to stderr.
enum Output {
    /// Prints a value as pretty JSON with stable, sorted keys and ISO 8601 dates.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Prints rows under upper-case headers, columns separated by two spaces;
    /// `empty` is printed instead when there are no rows.
    static func printTable(_ headers: [String], _ rows: [[String]], empty: String) {
        guard !rows.isEmpty else {
            print(empty)
            return
        }
        print(table(headers, rows), terminator: "")
    }

    /// An aligned table as text, one line per row, ending with a newline.
    /// Widths are display widths (a wide character counts 2); when
    /// `maxTableWidth` is set, long cells are cut with "…" so that each line fits.
    static func table(_ headers: [String], _ rows: [[String]], limit: Int? = Output.maxTableWidth) -> String {
        let all = [headers.map { $0.uppercased() }] + rows.map { $0.map(singleLine) }
        var natural = [Int](repeating: 0, count: headers.count)
        for row in all {
            for (index, cell) in row.enumerated() where index < natural.count {
                natural[index] = max(natural[index], DisplayWidth.of(cell))
            }
        }
        let widths = fitted(natural, headers: headers.map { DisplayWidth.of($0) }, limit: limit)
        var text = ""
        for row in all {
            var line = ""
            for (index, cell) in row.enumerated() where index < widths.count {
                let last = index == widths.count - 1
                let shown = DisplayWidth.truncate(cell, to: widths[index])
                line += last ? shown : DisplayWidth.pad(shown, to: widths[index] + 2)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            text += line + "\n"
        }
        return text
    }

    /// Prints a detail view: one `Label:  value` line per field, labels aligned.
    /// Fields whose value is nil are left out.
    static func printDetails(_ fields: [(String, String?)]) {
        let present = fields.compactMap { label, value in value.map { (label, $0) } }
        let width = (present.map { $0.0.count }.max() ?? 0) + 1
        for (label, value) in present {
            print((label + ":").padding(toLength: width + 2, withPad: " ", startingAt: 0) + singleLine(value))
        }
    }

    /// Writes one line to stderr.
    static func note(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Control characters (from stored names) never reach the terminal raw:
    /// line breaks and tabs become spaces; every other C0, DEL or C1 control
    /// and every bidi embedding, override or isolate control is shown escaped
    /// as `\u{XX}`, so that it can neither drive the terminal nor reorder text.
    static func singleLine(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x0D, 0x09, 0x0B, 0x0C, 0x85, 0x2028, 0x2029:
                out.append(" ")
            case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069:
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }
}
