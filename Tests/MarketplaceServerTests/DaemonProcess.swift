import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// The real `marketplace-usersd` binary, run as a child process: started,
/// signalled (SIGKILL, SIGTERM), waited for, restarted on the same data.
final class DaemonProcess: Sendable {
    let socketPath: String
    let dataDirectory: String
    let logPath: String
    private let process: ChildProcess

    static var executable: String { builtProductsDirectory + "/marketplace-usersd" }

    /// Fast password hashing, so that accepts are cheap.
    static let fastHashing = ["--argon2-opslimit", "1", "--argon2-memlimit-kib", "8"]

    /// Starts the daemon; does not wait for it to be ready (see `waitUntilReady`).
    /// `environment` is added to the test's own; `launcher` (e.g.
    /// `systemd-socket-activate -l PATH`) runs the daemon in its place.
    init(
        socketPath: String, dataDirectory: String, logPath: String, arguments: [String] = [],
        environment: [String: String] = [:], launcher: [String] = []
    ) throws {
        self.socketPath = socketPath
        self.dataDirectory = dataDirectory
        self.logPath = logPath
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let arguments = [launcher.first ?? Self.executable] + launcher.dropFirst()
            + (launcher.isEmpty ? [] : [Self.executable])
            + ["--socket", socketPath, "--data-dir", dataDirectory] + Self.fastHashing + arguments
        // Started with posix_spawn (ChildProcess), not Foundation's Process,
        // whose run() crashed the test process now and then; a daemon a failed
        // test left running is killed when this is released.
        process = try ChildProcess(
            arguments, log: logPath,
            environment: environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 })
    }

    var pid: Int32 { process.pid }
    var isRunning: Bool { process.isRunning }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until the daemon answers a health check; false when it exits first
    /// or `seconds` pass.
    /// The default wait is longer on PostgreSQL: a daemon there connects
    /// and migrates its database while the pass's other tests load the same
    /// server (CI saw 30 s pass at the start of the PostgreSQL pass).
    func waitUntilReady(seconds: Double? = nil) async -> Bool {
        let process = self.process
        let seconds = seconds ?? (TestBackend.current == .postgres ? 90 : 30)
        return await untilServing(socketPath: socketPath, seconds: seconds, while: { process.isRunning })?.status == .serving
    }

    /// Sends `number` to the daemon while it runs; never to a pid the
    /// daemon gave back (once reaped, the kernel may give it to another
    /// test's process: this machine's pid_max is 32,768 and a full test run
    /// starts more processes than that).
    func signal(_ number: Int32) {
        guard process.isRunning else { return }
        kill(process.pid, number)
    }

    /// For a failed test's message: whether the daemon still runs (or how it
    /// ended) and the last `lines` lines of its log (a crash's backtrace ends there).
    func diagnosis(lines: Int = 60) -> String {
        let state = process.isRunning ? "running" : "exited, status \(process.terminationStatus)"
        let tail = log.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
        return "daemon on \(socketPath) (pid \(process.pid)): \(state); last lines of its log:\n\(tail)"
    }

    /// Waits for the process to exit, at most `seconds`; its exit status, or nil
    /// if it is still running (then it is killed).
    func waitForExit(seconds: Double = 30) async -> Int32? {
        let process = self.process
        let exited = (try? await onThread { () -> Bool in
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning, Date() < deadline { usleep(10_000) }
            return !process.isRunning
        }) ?? false
        guard exited else {
            kill(process.pid, SIGKILL)
            _ = try? await onThread { process.waitUntilExit() }
            return nil
        }
        _ = try? await onThread { process.waitUntilExit() }
        return process.terminationStatus
    }
}

/// Runs `sql` on `database` with the system sqlite3 shell, read-only; its output.
func sqlite(_ database: String, _ sql: String) async throws -> String {
    let result = try await runProcess("/usr/bin/sqlite3", ["-readonly", "-batch", "-cmd", ".timeout 5000", database, sql])
    guard result.status == 0 else {
        throw RPCError(.internal, "sqlite3 failed (\(result.status)): \(result.stderr)")
    }
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Runs `sql` on the stored data of `storage` from outside the service
/// (sqlite3 on the file, or psql on the database); its output.
@discardableResult
func execute(_ sql: String, in storage: TestStorage) async throws -> String {
    if let database = storage.database { return try await database.psql(sql) }
    let result = try await runProcess(
        "/usr/bin/sqlite3", ["-batch", "-cmd", ".timeout 5000", storage.dataDirectory + "/users.sqlite", sql])
    guard result.status == 0 else {
        throw RPCError(.internal, "sqlite3 failed (\(result.status)): \(result.stderr)")
    }
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Consistency of a users database, checked from outside the service: SQLite's
/// own integrity and foreign-key checks, then the invariants no half-done
/// operation may break. Returns one line per violation.
func storageViolations(_ database: String) async throws -> [String] {
    var violations: [String] = []
    let integrity = try await sqlite(database, "PRAGMA integrity_check")
    if integrity != "ok" { violations.append("integrity_check: \(integrity)") }
    let foreignKeys = try await sqlite(database, "PRAGMA foreign_key_check")
    if !foreignKeys.isEmpty { violations.append("foreign_key_check: \(foreignKeys)") }
    for (name, query) in storageInvariants {
        let count = try await sqlite(database, query)
        if count != "0" { violations.append("\(name): \(count) rows") }
    }
    return violations
}

/// The same checks on the tests' backend: the SQLite file in the data
/// directory, or the PostgreSQL database (which enforces its foreign keys
/// itself), with psql.
func storageViolations(in storage: TestStorage) async throws -> [String] {
    guard let database = storage.database else {
        return try await storageViolations(storage.dataDirectory + "/users.sqlite")
    }
    var violations: [String] = []
    for (name, query) in storageInvariants {
        let count = try await database.psql(query)
        if count != "0" { violations.append("\(name): \(count) rows") }
    }
    return violations
}

/// What no half-done operation may leave behind: a name and a query counting
/// the rows that break it (SQL both backends run).
private let storageInvariants: [(String, String)] = {
    let invariants: [(String, String)] = [
        ("an invited membership without a pending invitation",
         "SELECT count(*) FROM account_users au WHERE au.status = 'invited' AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.account_user_id = au.id AND i.state = 'pending')"),
        // An ended invitation's unsent emails are withdrawn (Outbox service), so
        // only a pending one must still have its email.
        ("a pending invitation without its outbox message",
         "SELECT count(*) FROM invitations i WHERE i.state = 'pending' AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.account_user_id = i.account_user_id AND o.sealed_token = i.sealed_token)"),
        ("a membership without a group",
         "SELECT count(*) FROM account_users au WHERE au.status IN ('invited', 'active') AND NOT EXISTS (SELECT 1 FROM account_user_groups g WHERE g.account_user_id = au.id)"),
        ("an active membership whose user has no password",
         "SELECT count(*) FROM account_users au JOIN users u ON u.id = au.user_id WHERE au.status = 'active' AND u.password_hash IS NULL"),
        ("an accepted invitation whose membership is not active",
         "SELECT count(*) FROM invitations i JOIN account_users au ON au.id = i.account_user_id WHERE i.state = 'accepted' AND au.status = 'invited'"),
        ("an active membership without an accepted invitation",
         "SELECT count(*) FROM account_users au WHERE au.status = 'active' AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.account_user_id = au.id AND i.state = 'accepted')"),
        ("more than one pending invitation for a membership",
         "SELECT count(*) FROM (SELECT account_user_id FROM invitations WHERE state = 'pending' GROUP BY account_user_id HAVING count(*) > 1) AS pending"),
    ]
    return invariants
}()
