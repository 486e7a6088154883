import Foundation

/// The signed-in person's session, kept between commands in a file only its
/// owner can read (mode 0600, in a 0700 directory).
///
/// Location: `MARKETPLACE_USERS_SESSION_FILE`, else
/// `$XDG_CONFIG_HOME/marketplace-users/session.json`, else
/// `~/.config/marketplace-users/session.json`. The session is used only with
/// the socket it was signed in on.
struct SessionFile: Codable, Equatable {
    /// The absolute socket path the session belongs to.
    var socket: String
    var token: String
    var email: String
    var expiresAt: Date?

    static var path: String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["MARKETPLACE_USERS_SESSION_FILE"], !explicit.isEmpty { return explicit }
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() + "/.config")
        return base + "/marketplace-users/session.json"
    }

    static func absolute(_ socket: String) -> String {
        URL(fileURLWithPath: socket).standardizedFileURL.path
    }

    /// The saved session for `socket`, if any.
    /// - Throws: `CLIFailure` when the file can be read by others or is damaged.
    static func load(for socket: String) throws(CLIFailure) -> SessionFile? {
        let path = Self.path
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        guard st.st_mode & 0o077 == 0, st.st_uid == getuid() else {
            throw CLIFailure(
                "the session file \(path) can be read by others; remove it (marketplace-users sign-out) and sign in again",
                exitStatus: CLIErrors.ExitStatus.refused)
        }
        guard let data = FileManager.default.contents(atPath: path),
              let session = try? Self.decoder.decode(SessionFile.self, from: data)
        else {
            throw CLIFailure("the session file \(path) is damaged; run marketplace-users sign-out", exitStatus: CLIErrors.ExitStatus.failure)
        }
        return session.socket == absolute(socket) ? session : nil
    }

    /// Writes the session with mode 0600 (the directory 0700), replacing any other.
    func save() throws {
        let path = Self.path
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try Self.encoder.encode(self)
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw CLIFailure("cannot write the session file \(path): \(String(cString: strerror(errno)))", exitStatus: CLIErrors.ExitStatus.failure)
        }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == data.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CLIFailure("cannot write the session file \(path)", exitStatus: CLIErrors.ExitStatus.failure)
        }
    }

    /// Removes the saved session, if any.
    static func remove() {
        unlink(path)
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
