import Foundation
import MarketplaceDomain
import MarketplaceServer
import MarketplaceSQLite
import MarketplaceTestSupport
import Testing

/// Issue 10 item 8: text stored before the text rules (or by another writer)
/// never reaches the terminal raw.
@Suite("CLI: control characters")
struct CLIControlCharacterTests {
    @Test("C0, C1 and bidi controls in a stored name are printed escaped, never raw")
    func controlsAreEscaped() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let id = "ACC-1111-2222"
        do {
            let store = try SQLiteStore(dataDirectory: directory.appending("data"))
            try await store.write { w in
                try w.insert(Account(id: id, name: "Acme\u{9B}31m\u{1B}[2JEvil\u{202E}x\u{85}y", type: .client, status: .active, createdAt: Date()))
            }
        }
        try await withUsersServer(in: directory) { server, _ in
            let cli = CLI(server)
            for arguments in [["accounts", "show", id], ["accounts", "list"]] {
                let run = try await cli(arguments)
                #expect(run.status == 0, "\(run.stderr)")
                #expect(!run.stdout.unicodeScalars.contains { [0x1B, 0x85, 0x9B, 0x202E].contains($0.value) }, "\(arguments)")
                #expect(run.stdout.contains("Acme\\u{9B}31m\\u{1B}[2JEvil\\u{202E}x y"), "\(run.stdout)")
            }
        }
    }
}
