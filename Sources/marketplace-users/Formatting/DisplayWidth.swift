#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Columns a string takes on a terminal: East Asian wide and full-width
/// characters (CJK, Hangul, full-width forms, most emoji) take 2, combining
/// marks and zero-width characters 0, the rest 1.
enum DisplayWidth {
    static func of(_ text: String) -> Int { text.reduce(0) { $0 + of($1) } }

    static func of(_ character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        let v = scalar.value
        if v == 0x200B || v == 0x200C || v == 0x200D || v == 0xFEFF { return 0 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark: return 0
        default: break
        }
        if isWide(v) { return 2 }
        return 1
    }

    private static func isWide(_ v: UInt32) -> Bool {
        (0x1100...0x115F).contains(v) || (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v)
            || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
            || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v)
            || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v)
            || (0x1F900...0x1F9FF).contains(v) || (0x20000...0x3FFFD).contains(v)
    }

    /// `text` cut to at most `width` columns, ending with "…" when cut.
    static func truncate(_ text: String, to width: Int) -> String {
        guard of(text) > width else { return text }
        guard width > 1 else { return width == 1 ? "…" : "" }
        var result = "", used = 0
        for character in text {
            let w = of(character)
            if used + w > width - 1 { break }
            result.append(character)
            used += w
        }
        return result + "…"
    }

    /// `text` followed by spaces up to `width` columns.
    static func pad(_ text: String, to width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - of(text)))
    }
}

extension Output {
    private static let tableWidth = Mutex<Int?>(nil)

    /// The width tables are cut to; nil prints full values (`--wide`, or not a terminal).
    static var maxTableWidth: Int? { tableWidth.withLock { $0 } }

    static func setTableWidth(_ width: Int?) { tableWidth.withLock { $0 = width } }

    /// The terminal's width: `$COLUMNS` when set, else the width of the
    /// terminal stdout writes to; nil when stdout is not a terminal (a pipe or
    /// file gets full values).
    static func terminalColumns() -> Int? {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 {
            return columns
        }
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Column widths that fit `limit` (two spaces between columns): the widest
    /// columns give up space first, none below 6 columns or its header.
    static func fitted(_ natural: [Int], headers: [Int], limit: Int?) -> [Int] {
        guard let limit else { return natural }
        var widths = natural
        let gaps = 2 * max(0, widths.count - 1)
        while widths.reduce(0, +) + gaps > limit {
            guard let index = widths.indices.max(by: { widths[$0] < widths[$1] }) else { break }
            let floor = max(6, headers[index])
            guard widths[index] > floor else { break }
            widths[index] -= 1
        }
        return widths
    }
}
