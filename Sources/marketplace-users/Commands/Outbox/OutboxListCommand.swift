import ArgumentParser
import Foundation
import MarketplaceClient

struct OutboxListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List pending emails and failed ones, oldest first.",
        discussion: """
            STATE is pending (with the attempts and last temporary failure, if
            any) or failed with the reason (the agent rejected the address, or the
            sender gave up): a failed message is never retried. --pending-only
            leaves failed ones out.
            JSON: {"messages": [OutboxMessage...], "nextPageToken": "..."} (with subject, body, state, failure_reason).
            Examples:
              marketplace-users outbox list
              marketplace-users outbox list --limit 500 --json
              marketplace-users outbox list --limit 100 --all --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("Continue from the token a previous page printed.", valueName: "token"))
    var pageToken: String = ""

    @Flag(name: .long, help: "Follow every page and print them all.")
    var all = false

    @Option(help: ArgumentHelp("At most this many, 1 to 500 (default 50).", valueName: "n"))
    var limit: Int?

    @Flag(name: .customLong("pending-only"), help: "Leave out messages whose delivery failed permanently.")
    var pendingOnly = false

    func validate() throws {
        guard (1...500).contains(limit ?? 50) else { throw ValidationError("--limit must be between 1 and 500") }
    }

    func run() async throws {
        try await connection.run { client in
            let request = { (token: String) in
                ListPendingMessagesRequest(limit: Int32(limit ?? 0), pageToken: token, includeFailed: !pendingOnly)
            }
            var response = try await client.outbox.listPendingMessages(request(pageToken))
            var seen: Set<String> = [pageToken]
            while all, !response.nextPageToken.isEmpty {
                guard seen.insert(response.nextPageToken).inserted else {
                    throw CLIFailure("the server repeated a page token; the list may be incomplete", exitStatus: CLIErrors.ExitStatus.failure)
                }
                let next = try await client.outbox.listPendingMessages(request(response.nextPageToken))
                response = ListPendingMessagesResponse(messages: response.messages + next.messages, nextPageToken: next.nextPageToken)
            }
            if connection.json {
                try Output.printJSON(response)
            } else {
                Display.outboxMessages(response.messages)
                if !response.nextPageToken.isEmpty {
                    FileHandle.standardError.write(Data("More messages: add --page-token \(response.nextPageToken)\n".utf8))
                }
            }
        }
    }
}
