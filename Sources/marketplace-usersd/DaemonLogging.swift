#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import MarketplaceProtos
import Synchronization

/// The daemon's log level, shared by every logger and changed at run time by
/// SIGHUP (see `--log-level-file`).
final class LogLevelControl: Sendable {
    /// The level's index in `Logger.Level.allCases`: an atomic read, since
    /// every log call (and every per-call line) checks the level.
    private let index: Atomic<Int>

    init(_ level: Logger.Level) {
        index = Atomic(Logger.Level.allCases.firstIndex(of: level)!)
    }

    var current: Logger.Level {
        get { Logger.Level.allCases[index.load(ordering: .relaxed)] }
        set { index.store(Logger.Level.allCases.firstIndex(of: newValue)!, ordering: .relaxed) }
    }
}

/// One line per event on standard error, as text or as a JSON object (one per
/// line, for `jq` and log shippers). The level is the shared `LogLevelControl`.
///
/// Text: `2026-12-01T21:20:42.123Z info marketplace-usersd: message key=value ...`
/// JSON: `{"ts":"...","level":"info","label":"marketplace-usersd","msg":"message","key":"value",...}`
struct DaemonLogHandler: LogHandler {
    let label: String
    let json: Bool
    let control: LogLevelControl
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    var logLevel: Logger.Level {
        get { control.current }
        set { control.current = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level, message = event.message
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let explicit = event.metadata { all.merge(explicit) { $1 } }
        if let error = event.error { all["error"] = "\(error)" }
        let timestamp = Self.timestamp()
        var text: String
        if json {
            text = "{\"ts\":\(Self.quoted(timestamp)),\"level\":\(Self.quoted(level.rawValue)),\"label\":\(Self.quoted(label)),\"msg\":\(Self.quoted(message.description))"
            for key in all.keys.sorted() where !["ts", "level", "label", "msg"].contains(key) {
                text += ",\(Self.quoted(key)):\(Self.quoted(Self.flat(all[key]!)))"
            }
            text += "}\n"
        } else {
            text = "\(timestamp) \(level.rawValue) \(label): \(message.description)"
            for key in all.keys.sorted() {
                text += " \(key)=\(Self.flat(all[key]!))"
            }
            text += "\n"
        }
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(2, raw.baseAddress! + offset, raw.count - offset)
                if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { break }
            }
        }
    }

    static func flat(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        default: value.description
        }
    }

    /// A JSON string literal (the one escaping the CLI uses too).
    static func quoted(_ string: String) -> String { JSONString.quoted(string) }

    /// UTC, milliseconds: `2026-12-01T21:20:42.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(now.tv_nsec / 1_000_000))
    }
}
