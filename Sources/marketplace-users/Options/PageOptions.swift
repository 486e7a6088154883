import ArgumentParser
import Foundation

/// One page, or every page, of a list.
struct PageOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Items per page, 1 to 500 (default 50).", valueName: "n"))
    var pageSize: Int?

    @Option(name: .long, help: ArgumentHelp("Continue from the token a previous page printed.", valueName: "token"))
    var pageToken: String = ""

    /// The size to ask for: 0 lets the server choose (50).
    var size: Int32 { Int32(pageSize ?? 0) }

    @Flag(name: .long, help: "Follow every page and print them all.")
    var all = false

    func validate() throws {
        guard (1...500).contains(pageSize ?? 50) else { throw ValidationError("--page-size must be between 1 and 500") }
    }

    /// Fetches one page, or every page with `--all`, and returns the items and
    /// the token of the next page (empty with `--all` or on the last page).
    func collect<Item>(_ fetch: (_ pageToken: String) async throws -> ([Item], String)) async throws -> ([Item], String) {
        var (items, next) = try await fetch(pageToken)
        guard all else { return (items, next) }
        var seen: Set<String> = [pageToken]
        while !next.isEmpty {
            guard seen.insert(next).inserted else {
                throw CLIFailure("the server repeated a page token; the list may be incomplete", exitStatus: CLIErrors.ExitStatus.failure)
            }
            let page = try await fetch(next)
            items += page.0
            next = page.1
        }
        return (items, "")
    }

    /// Tells a person how to get the next page (stderr, so stdout stays data).
    func printNextPageHint(_ next: String) {
        guard !next.isEmpty else { return }
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let index = arguments.firstIndex(of: "--page-token"), index + 1 < arguments.count {
            arguments.removeSubrange(index...(index + 1))
        }
        arguments.removeAll { $0.hasPrefix("--page-token=") }
        let command = (["marketplace-users"] + arguments + ["--page-token", next]).map(Self.shellQuoted).joined(separator: " ")
        Output.note("More results: \(command)  (or --all for every page)")
    }

    static func shellQuoted(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@,+")
        return !word.isEmpty && word.allSatisfy({ safe.contains($0) }) ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// A page of a list as `--json` prints it: the items under `key`, and
/// `nextPageToken` (empty on the last page or with `--all`).
struct PageJSON<Item: Encodable>: Encodable {
    let key: String
    let items: [Item]
    let nextPageToken: String

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(items, forKey: Key(stringValue: key))
        try container.encode(nextPageToken, forKey: Key(stringValue: "nextPageToken"))
    }
}
