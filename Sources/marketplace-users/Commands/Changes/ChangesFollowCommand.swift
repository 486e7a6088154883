import ArgumentParser
import Foundation
import MarketplaceClient

struct ChangesFollowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "follow",
        abstract: "Print changes as they are committed, until interrupted.",
        discussion: """
            Calls Changes/ListChanges in a loop, each call waiting up to 30 s
            for a change (operators and internal services only; the saved
            sign-in session is never sent). Starts at the newest change unless
            --after is given. Prints one line per change: a table row, or one
            JSON object per line with --json.

            Examples:
              marketplace-users changes follow
              marketplace-users changes follow --after 1234 --json --count 10
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Print the changes after this position (default: only new ones).")
    var after: Int64?

    @Option(help: "Exit after printing this many changes.")
    var count: Int?

    func validate() throws {
        if let after, after < 0 { throw ValidationError("--after must not be negative") }
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
    }

    func run() async throws {
        var connection = connection
        connection.noSession = true
        try await connection.run { client in
            var position: Int64
            if let after { position = after } else { position = try await client.changes.listChanges(.init(fromHead: true)).position }
            var printed = 0
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            if !connection.json { Self.emit(Output.table(Self.headers, [])) }
            while true {
                let page = try await client.changes.listChanges(
                    .init(afterPosition: position, limit: 100, waitSeconds: 30),
                    options: CallOptions(timeout: .seconds(45)))
                for change in page.changes {
                    if connection.json {
                        Self.emit(String(decoding: try encoder.encode(change), as: UTF8.self) + "\n")
                    } else {
                        Self.emit(Self.row(change) + "\n")
                    }
                    printed += 1
                    if let count, printed >= count { return }
                }
                position = page.position
            }
        }
    }

    /// Writes at once (unbuffered), so each change shows as it comes.
    static func emit(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static let headers = ["position", "kind", "committed", "user", "account", "account user", "group", "session"]

    static func row(_ change: Change) -> String {
        [
            String(change.position), kind(change.kind), TimeFormatting.absolute(change.committedAt),
            dash(change.userId), dash(change.accountId), dash(change.accountUserId), dash(change.groupId),
            dash(change.sessionId),
        ].joined(separator: "  ")
    }

    private static func dash(_ value: String) -> String { value.isEmpty ? "-" : value }

    static func kind(_ kind: ChangeKind) -> String {
        switch kind {
        case .membership: "membership"
        case .user: "user"
        case .sessionEnded: "session_ended"
        case .groupPermissions: "group_permissions"
        case .accountStatus: "account_status"
        default: "unknown"
        }
    }
}
