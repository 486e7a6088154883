import Foundation

/// Fetches `url` with curl (a real HTTP client); over `unixSocket` if given.
public func curl(_ url: String, unixSocket: String? = nil) async throws -> (status: Int32, body: String) {
    let arguments = ["--silent", "--show-error", "--fail", "--max-time", "20"]
        + (unixSocket.map { ["--unix-socket", $0] } ?? []) + [url]
    let result = try await runProcess("/usr/bin/curl", arguments)
    return (result.status, result.stdout + result.stderr)
}

/// The value of the sample of `metric` (Prometheus text format) whose labels
/// include every one of `labels` (e.g. `code="OK"`); nil when there is none.
public func sample(_ text: String, _ metric: String, _ labels: [String] = []) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(metric + "{") || line.hasPrefix(metric + " ") {
        let head = line.prefix { $0 != "}" }
        guard labels.allSatisfy({ head.contains($0) }) else { continue }
        if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
    }
    return nil
}
