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
        let saved: SessionFile?
        do {
            saved = try SessionFile.load(for: connection.socket)
        } catch {
            // A damaged file, or one others can read, is no use to anyone.
            SessionFile.remove()
            print("Removed an unusable session file: \(error.message)")
            return
        }
        guard saved != nil else {
            // Nothing for this socket; a session saved for another socket stays.
            print("Not signed in on \(connection.socket).")
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
