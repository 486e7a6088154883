import Foundation

/// What a start creates in the data directory, so that a refused start can
/// remove exactly that: the directory itself when it did not exist (with all
/// it holds), otherwise the database files and the key file that were not
/// there before. Files that existed are never touched.
struct StartupFiles {
    let dataDirectory: String
    private let directoryExisted: Bool
    private let existing: Set<String>

    /// The files a start may create besides the directory.
    static let names = [
        "users.sqlite", "users.sqlite-wal", "users.sqlite-shm", "users.sqlite-journal", "users.sqlite.startup-lock",
        "users.sqlite.serving-lock", "users.sqlite.writers",
        "secrets.key",
    ]

    init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
        var isDirectory: ObjCBool = false
        directoryExisted = FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory)
        existing = Set(Self.names.filter { FileManager.default.fileExists(atPath: (dataDirectory as NSString).appendingPathComponent($0)) })
    }

    /// Removes what the start created.
    func removeCreated() {
        if !directoryExisted {
            try? FileManager.default.removeItem(atPath: dataDirectory)
            return
        }
        for name in Self.names where !existing.contains(name) {
            unlink((dataDirectory as NSString).appendingPathComponent(name))
        }
    }
}
