import Foundation
import Synchronization

/// The signed-in person's session, kept between commands in a file only its
/// owner can read (mode 0600, in a 0700 directory).
///
/// Location: `MARKETPLACE_USERS_SESSION_FILE`, else
/// `$XDG_STATE_HOME/marketplace-users/session.json`, else
/// `$HOME/.local/state/marketplace-users/session.json` (a session is state, not
/// configuration). A file at the former place,
/// `$XDG_CONFIG_HOME` (or `$HOME/.config`)`/marketplace-users/session.json`, is
/// still read. The session is used only with the socket it was signed in on.
struct SessionFile: Codable, Equatable {
    /// The absolute socket path the session belongs to.
    var socket: String
    var token: String
    var email: String
    var expiresAt: Date?

    /// The email of the saved session this run sends, once `load` found one.
    private static let used = Mutex<String?>(nil)
    static var actingAs: String? { used.withLock { $0 } }

    /// `$HOME`, else the password database's home directory.
    static var home: String {
        let environment = ProcessInfo.processInfo.environment
        if let home = environment["HOME"], !home.isEmpty { return home }
        return NSHomeDirectory()
    }

    static var path: String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["MARKETPLACE_USERS_SESSION_FILE"], !explicit.isEmpty { return explicit }
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (home + "/.local/state")
        let path = state + "/marketplace-users/session.json"
        if access(path, F_OK) != 0, access(legacyPath, F_OK) == 0 { return legacyPath }
        return path
    }

    /// Where versions before XDG_STATE_HOME kept the session.
    static var legacyPath: String {
        let environment = ProcessInfo.processInfo.environment
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (home + "/.config")
        return config + "/marketplace-users/session.json"
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
        guard session.socket == absolute(socket) else { return nil }
        used.withLock { $0 = session.email }
        return session
    }

    /// Writes the session with mode 0600 (the directory 0700), replacing any other.
    func save() throws {
        if Self.path == Self.legacyPath { Self.remove() }
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
