import Foundation

/// Dates for people: absolute times in the local time zone (`TZ`) and relative
/// phrases such as "in 6 days" or "2 days ago".
enum TimeFormatting {
    private static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "yyyy-MM-dd HH:mm zzz"
        return formatter
    }()

    /// `2025-03-01 14:05 CET`, or `never` for an unset time.
    static func absolute(_ date: Date?, never: String = "never") -> String {
        guard let date else { return never }
        return formatter.string(from: date)
    }

    /// `in 7 days`, `2 hours ago`, `just now`: minutes under 90 minutes, hours
    /// under 48 hours, days beyond, each rounded to the nearest.
    static func relative(_ date: Date, now: Date = Date()) -> String {
        let seconds = date.timeIntervalSince(now)
        let magnitude = abs(seconds)
        if magnitude < 60 { return "just now" }
        let (value, unit): (Int, String) =
            magnitude < 5_400 ? (Int((magnitude / 60).rounded()), "minute")
            : magnitude < 172_800 ? (Int((magnitude / 3_600).rounded()), "hour")
            : (Int((magnitude / 86_400).rounded()), "day")
        let amount = "\(value) \(unit)\(value == 1 ? "" : "s")"
        return seconds > 0 ? "in \(amount)" : "\(amount) ago"
    }

    /// `2025-03-01 14:05 CET (in 6 days)`.
    static func absoluteAndRelative(_ date: Date?, never: String = "never") -> String {
        guard let date else { return never }
        return "\(absolute(date)) (\(relative(date)))"
    }

    /// A short date for tables: `2025-03-01`.
    static func day(_ date: Date?, never: String = "never") -> String {
        guard let date else { return never }
        return String(absolute(date).prefix(10))
    }
}
