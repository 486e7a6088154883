import ArgumentParser
import Foundation

struct OutboxTemplatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates",
        abstract: "Write the built-in mail templates to a directory, to edit.",
        discussion: """
            Writes KIND.LANGUAGE.txt (first line "Subject: ...", a blank line, the
            plain text) and KIND.LANGUAGE.html for each kind (invitation, resend,
            new_invitation, removal) and language (en, de). Edit them, or add a
            language, and pass the directory to `outbox deliver --templates`.
            Fields are written {{name}}; docs/mail.md lists them. Existing files
            are not overwritten (exit 5) unless --force.
            Example:
              marketplace-users outbox templates /etc/marketplace-users/mail
            """)

    @Argument(help: ArgumentHelp("The directory (created if missing).", valueName: "dir"))
    var directory: String

    @Flag(help: "Overwrite existing files.")
    var force = false

    func run() async throws {
        try await CLIErrors.reporting(socket: "") {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw CLIFailure("cannot create \(directory): \(error.localizedDescription)", exitStatus: CLIErrors.ExitStatus.failure)
            }
            for (name, text) in DefaultMailTemplates.files.sorted(by: { $0.key < $1.key }) {
                let path = directory + "/" + name
                if !force && FileManager.default.fileExists(atPath: path) {
                    throw CLIFailure("\(path) exists; pass --force to overwrite", exitStatus: CLIErrors.ExitStatus.conflict)
                }
                guard FileManager.default.createFile(atPath: path, contents: Data((text + "\n").utf8)) else {
                    throw CLIFailure("cannot write \(path)", exitStatus: CLIErrors.ExitStatus.failure)
                }
            }
            print("Wrote \(DefaultMailTemplates.files.count) templates to \(directory).")
        }
    }
}
