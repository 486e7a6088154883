import ArgumentParser
import Foundation
import MarketplaceClient

struct SignOutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-out",
        abstract: "End the signed-in session and forget its token.",
        discussion: """
            The saved session file is removed even when the server cannot be reached
            or the session already ended.
            Example:
              marketplace-users sign-out
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        guard (try? SessionFile.load(for: connection.socket)) ?? nil != nil else {
            SessionFile.remove()
            print("Not signed in.")
            return
        }
        defer { SessionFile.remove() }
        do {
            try await connection.run { client in
                _ = try await client.sessions.signOut(.init())
            }
        } catch let exit as ExitCode where exit.rawValue == CLIErrors.ExitStatus.refused {
            // The session had already ended; forgetting it is all that is left.
        }
        print("Signed out.")
    }
}
