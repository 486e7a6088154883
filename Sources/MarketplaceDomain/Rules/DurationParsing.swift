/// Parses a duration such as `90s`, `15m`, `12h` or `7d`: a positive whole
/// number followed by one unit (s, m, h, d).
///
/// - Throws: ``DomainError/Kind/invalidArgument`` naming what is wrong
///   (empty, missing or unknown unit, not a number, zero, too large).
public func parseDuration(_ text: String, field: String = "duration") throws(DomainError) -> Duration {
    let trimmed = text.trimmingWhitespace()
    guard !trimmed.isEmpty else {
        throw .invalidArgument("\(field): is empty; expected a number followed by s, m, h or d (e.g. 7d)")
    }
    guard let unit = trimmed.last, !(unit.isASCII && unit.isNumber) else {
        throw .invalidArgument("\(field): \"\(trimmed)\" has no unit; expected s, m, h or d (e.g. \(trimmed)s)")
    }
    let multiplier: Int64
    switch unit {
    case "s": multiplier = 1
    case "m": multiplier = 60
    case "h": multiplier = 3600
    case "d": multiplier = 86400
    default:
        throw .invalidArgument("\(field): \"\(trimmed)\" has unknown unit \"\(unit)\"; expected s, m, h or d")
    }
    let number = trimmed.dropLast()
    guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }) else {
        throw .invalidArgument("\(field): \"\(trimmed)\" is not a whole number followed by a unit (e.g. 7d)")
    }
    guard let value = Int64(number) else {
        throw .invalidArgument("\(field): \"\(trimmed)\" is too large")
    }
    guard value > 0 else { throw .invalidArgument("\(field): must be positive (got \(trimmed))") }
    let (seconds, overflow) = value.multipliedReportingOverflow(by: multiplier)
    guard !overflow, seconds <= 100 * 365 * 86400 else {
        throw .invalidArgument("\(field): \"\(trimmed)\" is too large (at most 100 years)")
    }
    return .seconds(seconds)
}
