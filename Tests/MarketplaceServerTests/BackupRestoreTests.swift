import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Synchronization
import Testing

extension DaemonOperationsTests {
    @Suite(
        "Backup and restore of the real daemon's data, online, under writes", .serialized,
        .sqliteOnly("backup and restore copy the SQLite file; PostgreSQL is backed up with its own tools"))
    struct BackupRestoreTests {
        @Test("A backup under concurrent invites restores every invite acknowledged before it began, and old links work")
        func backupUnderWritesThenRestore() async throws {
            let directory = try TemporaryDirectory(prefix: "backup")
            defer { directory.remove() }
            let socket = directory.appending("a.sock"), data = directory.appending("data")
            let daemon = try DaemonProcess(socketPath: socket, dataDirectory: data, logPath: directory.appending("a.log"))
            try #require(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
            let client = MarketplaceClient(socketPath: socket)
            let f = Fixture(client: client)
            let (account, _, staff) = try await f.accountWithGroups()
            let early = try await f.invite(account, "early@example.com", groups: [staff]).invitationLink

            // Writers invite without pause until told to stop.
            let acknowledged = LoadState()
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            var i = 0
                            while !acknowledged.stopped {
                                let email = "w\(worker)-\(i)@example.com"
                                i += 1
                                if (try? await client.accountUsers.inviteUser(.init(
                                    accountId: account.id, email: email, firstName: "A", lastName: "B", groupIds: [staff.id]))) != nil {
                                    acknowledged.append(email)
                                }
                            }
                        }
                    }
                }
            }
            let loaded = ContinuousClock.now + .seconds(30)
            while acknowledged.count < 50, ContinuousClock.now < loaded {
                try await Task.sleep(for: .milliseconds(20))
            }
            let beforeBackup = Set(acknowledged.emails)
            let file = directory.appending("users-backup.db")
            let backup = try await runProcess(DaemonProcess.executable, ["backup", "--data-dir", data, "--to", file])
            let duringOrAfter = acknowledged.count
            // Writes went on while the copy was made, and after.
            while acknowledged.count < duringOrAfter + 20, ContinuousClock.now < loaded + .seconds(30) {
                try await Task.sleep(for: .milliseconds(20))
            }
            acknowledged.stop()
            await load.value
            #expect(backup.status == 0, "backup failed: \(backup.stderr)")
            #expect(backup.stdout.contains("key included"), "\(backup.stdout)")
            #expect(mode(file) == 0o600, "backup file mode \(String(mode(file), radix: 8))")
            #expect(beforeBackup.count >= 50)

            // A second backup to the same name is refused, the first kept.
            let again = try await runProcess(DaemonProcess.executable, ["backup", "--data-dir", data, "--to", file])
            #expect(again.status == 1 && again.stderr.contains("exists"), "\(again.stderr)")

            let restored = directory.appending("restored")
            let restore = try await runProcess(DaemonProcess.executable, ["restore", "--from", file, "--data-dir", restored])
            #expect(restore.status == 0, "restore failed: \(restore.stderr)")
            #expect(mode(restored) == 0o700)
            #expect(mode(restored + "/users.sqlite") == 0o600)
            #expect(mode(restored + "/secrets.key") == 0o600)
            #expect(try Data(contentsOf: URL(fileURLWithPath: restored + "/secrets.key")) == Data(contentsOf: URL(fileURLWithPath: data + "/secrets.key")))
            // A non-empty target is refused and left as it was.
            let refused = try await runProcess(DaemonProcess.executable, ["restore", "--from", file, "--data-dir", restored])
            #expect(refused.status == 1 && refused.stderr.contains("not empty"), "\(refused.stderr)")
            #expect(try await storageViolations(restored + "/users.sqlite").isEmpty)

            // A daemon on the copy has every invite acknowledged before the backup
            // began, and the links issued before it still work.
            let copySocket = directory.appending("b.sock")
            let copy = try DaemonProcess(socketPath: copySocket, dataDirectory: restored, logPath: directory.appending("b.log"))
            try #require(await copy.waitUntilReady(), "daemon on the copy did not start: \(copy.log)")
            let copyClient = MarketplaceClient(socketPath: copySocket)
            var found = Set<String>()
            var pageToken = ""
            repeat {
                let page = try await copyClient.accountUsers.listAccountUsers(.init(accountId: account.id, pageSize: 100, pageToken: pageToken))
                found.formUnion(page.accountUsers.compactMap { $0.user?.email })
                pageToken = page.nextPageToken
            } while !pageToken.isEmpty
            #expect(beforeBackup.isSubset(of: found), "\(beforeBackup.subtracting(found).count) acknowledged invites missing from the copy")
            let member = try await Fixture(client: copyClient).accept(early)
            #expect(member.status == .active)
            await copyClient.close()
            await client.close()
            copy.signal(SIGTERM)
            daemon.signal(SIGTERM)
            #expect(await copy.waitForExit() == 0)
            #expect(await daemon.waitForExit() == 0)
        }

        @Test("backup refuses a directory without a database; restore refuses a file that is not a backup")
        func refusals() async throws {
            let directory = try TemporaryDirectory(prefix: "backupno")
            defer { directory.remove() }
            let missing = try await runProcess(DaemonProcess.executable, ["backup", "--data-dir", directory.appending("none"), "--to", directory.appending("b.db")])
            #expect(missing.status == 1 && missing.stderr.contains("no database"), "\(missing.stderr)")
            #expect(!exists(directory.appending("b.db")))
            let junk = directory.appending("junk.db")
            try "not a backup".write(toFile: junk, atomically: true, encoding: .utf8)
            let bad = try await runProcess(DaemonProcess.executable, ["restore", "--from", junk, "--data-dir", directory.appending("new")])
            #expect(bad.status == 1, "\(bad.stderr)")
            #expect(!exists(directory.appending("new")), "a refused restore created the directory")
        }
    }
}

/// Emails whose invite was acknowledged, and the writers' stop flag.
private final class LoadState: Sendable {
    private let state = Mutex<(emails: [String], stopped: Bool)>(([], false))
    func append(_ email: String) { state.withLock { $0.emails.append(email) } }
    var emails: [String] { state.withLock { $0.emails } }
    var count: Int { state.withLock { $0.emails.count } }
    var stopped: Bool { state.withLock { $0.stopped } }
    func stop() { state.withLock { $0.stopped = true } }
}
