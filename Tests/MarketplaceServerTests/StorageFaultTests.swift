import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceSQLite
import MarketplaceTestSupport
import Testing

/// Mounting needs root (CAP_SYS_ADMIN); CI runs as root.
private let canMount = getuid() == 0

/// Mounts `options` (e.g. a small tmpfs) at `path`, runs `body`, unmounts.
private func withMount<T>(
    _ arguments: [String], at path: String, _ body: () async throws -> T
) async throws -> T {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let mounted = try await runProcess("/bin/mount", arguments + [path])
    try #require(mounted.status == 0, "mount \(arguments) failed: \(mounted.stderr)")
    do {
        let result = try await body()
        _ = try await runProcess("/bin/umount", [path])
        return result
    } catch {
        _ = try await runProcess("/bin/umount", ["-l", path])
        throw error
    }
}

/// Starts a server on `data` bind-mounted read-only under `directory`, and
/// returns what refused it (an issue is recorded if it started) and the
/// mount point it was given.
private func refusalOnReadOnlyMount(
    of data: String, in directory: TemporaryDirectory
) async throws -> (message: String, mountPoint: String) {
    let readOnly = directory.appending("ro")
    let message = try await withMount(["--bind", data], at: readOnly) { () async throws -> String in
        let remounted = try await runProcess("/bin/mount", ["-o", "remount,bind,ro", readOnly])
        try #require(remounted.status == 0, "\(remounted.stderr)")
        do {
            _ = try await withUsersServer(in: directory, configure: { $0.dataDirectory = readOnly }) { _, _ in
                Issue.record("the server started on a read-only database in \(data)")
            }
            return ""
        } catch {
            return "\(error)"
        }
    }
    return (message, readOnly)
}

@Suite(
    "Storage faults", .serialized, .enabled(if: canMount, "needs root to mount a small tmpfs"),
    .sqliteOnly("faults of the SQLite file: a full or read-only mount under it, its migration table"))
struct StorageFaultTests {
    @Test("a full disk answers UNAVAILABLE naming it, keeps acknowledged data, corrupts nothing, and recovers when space returns")
    func fullDisk() async throws {
        let directory = try TemporaryDirectory(prefix: "full")
        defer { directory.remove() }
        let disk = directory.appending("disk")
        try await withMount(["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs"], at: disk) {
            let data = disk + "/data"
            let filler = disk + "/filler"
            var acknowledged: [String] = []
            try await withUsersServer(in: directory, configure: { $0.dataDirectory = data }) { _, client in
                let f = Fixture(client: client)
                let (account, _, staff) = try await f.accountWithGroups()
                // Fill the disk, then write until storage refuses.
                let fd = open(filler, O_WRONLY | O_CREAT, 0o600)
                let block = [UInt8](repeating: 0xAB, count: 4096)
                while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
                close(fd)
                var refusal: RPCError?
                for i in 0..<500 {
                    do {
                        let email = "full-\(i)@example.com"
                        _ = try await f.invite(account, email, groups: [staff])
                        acknowledged.append(email)
                    } catch let error as RPCError {
                        refusal = error
                        break
                    }
                }
                let error = try #require(refusal, "500 invites fit on a full disk")
                print("full disk: \(acknowledged.count) invites fit after the filler, then \(error)")
                #expect(error.code == .unavailable, "\(error)")
                #expect(error.message.contains("full"), "\(error.message)")
                // Reads still work.
                let listed = try await client.accountUsers.listAccountUsers(.init(accountId: account.id, pageSize: 100))
                let listedEmails = Set(listed.accountUsers.compactMap { $0.user?.email })
                #expect(listedEmails.isSuperset(of: acknowledged))

                // Space returns: the very next write succeeds.
                try FileManager.default.removeItem(atPath: filler)
                _ = try await f.invite(account, "after-full@example.com", groups: [staff])
                acknowledged.append("after-full@example.com")
                let again = try await client.accountUsers.listAccountUsers(.init(accountId: account.id, pageSize: 100))
                let againEmails = Set(again.accountUsers.compactMap { $0.user?.email })
                #expect(againEmails.isSuperset(of: acknowledged))
            }
            #expect(try await storageViolations(data + "/users.sqlite").isEmpty)
        }
    }

    @Test("a full disk under the real daemon moves marketplace_storage_errors_total{code=\"13\"} (SQLITE_FULL) on the metrics endpoint")
    func fullDiskCountedInMetrics() async throws {
        let directory = try TemporaryDirectory(prefix: "fullm")
        defer { directory.remove() }
        let disk = directory.appending("disk")
        try await withMount(["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs"], at: disk) {
            // Only the data directory is on the small disk; the log and the
            // metrics socket are not.
            let metrics = directory.appending("metrics.sock")
            let daemon = try DaemonProcess(
                socketPath: directory.appending("s.sock"), dataDirectory: disk + "/data", logPath: directory.appending("d.log"),
                arguments: ["--metrics-listen", metrics])
            try #require(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
            let client = MarketplaceClient(socketPath: daemon.socketPath)
            let f = Fixture(client: client)
            let (account, _, staff) = try await f.accountWithGroups()
            let before = try await curl("http://localhost/metrics", unixSocket: metrics)
            #expect(before.status == 0, "\(before.body)")
            #expect(sample(before.body, "marketplace_storage_errors_total") == nil, "errors before the disk filled: \(before.body)")

            let filler = disk + "/filler"
            let fd = open(filler, O_WRONLY | O_CREAT, 0o600)
            let block = [UInt8](repeating: 0xAB, count: 4096)
            while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
            close(fd)
            var refusal: RPCError?
            for i in 0..<500 where refusal == nil {
                do {
                    _ = try await f.invite(account, "full-\(i)@example.com", groups: [staff])
                } catch let error as RPCError {
                    refusal = error
                }
            }
            let error = try #require(refusal, "500 invites fit on a full disk")
            #expect(error.code == .unavailable && error.message.contains("full"), "\(error)")

            let after = try await curl("http://localhost/metrics", unixSocket: metrics)
            #expect(after.status == 0, "\(after.body)")
            let full = sample(after.body, "marketplace_storage_errors_total", ["code=\"13\""]) ?? 0
            #expect(full >= 1, "SQLITE_FULL not counted: \(after.body)")
            #expect((sample(after.body, "marketplace_rpc_calls_total", ["code=\"UNAVAILABLE\""]) ?? 0) >= 1, "\(after.body)")

            try FileManager.default.removeItem(atPath: filler)
            _ = try await f.invite(account, "after-full@example.com", groups: [staff])
            await client.close()
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0)
        }
    }

    @Test("a database on a read-only file system is refused at start with a clear message and left untouched")
    func readOnly() async throws {
        let directory = try TemporaryDirectory(prefix: "ro")
        defer { directory.remove() }
        let data = directory.appending("data")
        try await withUsersServer(in: directory, configure: { $0.dataDirectory = data }) { _, client in
            _ = try await Fixture(client: client).accountWithGroups()
        }
        let (message, readOnly) = try await refusalOnReadOnlyMount(of: data, in: directory)
        print("read-only database refused: \(message)")
        #expect(message.contains("storage is read-only"), "\(message)")
        #expect(message.contains(readOnly), "the message does not name the database: \(message)")
        // Untouched: the mount guarantees no byte changed; the data is all there.
        #expect(try await sqlite(data + "/users.sqlite", "SELECT name FROM accounts") == "Acme")
        #expect(try await storageViolations(data + "/users.sqlite").isEmpty)
    }

    @Test("after a crash (its write-ahead log left behind) a read-only file system is still refused at start")
    func readOnlyAfterCrash() async throws {
        let directory = try TemporaryDirectory(prefix: "rocrash")
        defer { directory.remove() }
        let data = directory.appending("data"), socket = directory.appending("a.sock")
        let daemon = try DaemonProcess(socketPath: socket, dataDirectory: data, logPath: directory.appending("a.log"))
        try #require(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
        let client = MarketplaceClient(socketPath: socket)
        _ = try await Fixture(client: client).accountWithGroups()
        await client.close()
        daemon.signal(SIGKILL)
        _ = await daemon.waitForExit()
        // What a crash leaves: the log and its index. SQLite opens such a
        // file on a read-only mount without an error (read-only), and reads
        // succeed: the daemon served and failed every write.
        try #require(FileManager.default.fileExists(atPath: data + "/users.sqlite-wal"), "no log left behind by the kill")
        try #require(FileManager.default.fileExists(atPath: data + "/users.sqlite-shm"), "no log index left behind by the kill")
        let (message, readOnly) = try await refusalOnReadOnlyMount(of: data, in: directory)
        print("read-only database after a crash refused: \(message)")
        #expect(message.contains("storage is read-only"), "\(message)")
        #expect(message.contains(readOnly), "the message does not name the database: \(message)")
        // A file SQLite cannot write on a writable file system (immutable:
        // not even root may write it): SQLite opens it read-only, silently;
        // the store asks SQLite and refuses it too.
        let database = data + "/users.sqlite"
        let immutable = try await runProcess("/usr/bin/chattr", ["+i", database])
        if immutable.status == 0 {
            defer { _ = try? runToCompletion(["/usr/bin/chattr", "-i", database]) }
            do {
                _ = try await withUsersServer(in: directory, configure: { $0.dataDirectory = data }) { _, _ in
                    Issue.record("the server started on an immutable database file")
                }
            } catch {
                let message = "\(error)"
                print("immutable database file refused: \(message)")
                #expect(message.contains("storage is read-only"), "\(message)")
                #expect(message.contains(database), "the message does not name the database: \(message)")
            }
        } else {
            print("immutable database file not tried: chattr +i failed (\(immutable.stderr))")
        }
        // Writable again, the same files start and hold what was acknowledged.
        try await withUsersServer(in: directory, configure: { $0.dataDirectory = data }) { _, client in
            let accounts = try await client.accounts.listAccounts(.init()).accounts
            #expect(accounts.map(\.name) == ["Acme"])
        }
    }

    @Test("a database written by a newer version is refused at start, naming the unknown migration; the daemon exits 1")
    func newerSchema() async throws {
        let directory = try TemporaryDirectory(prefix: "new")
        defer { directory.remove() }
        let data = directory.appending("data")
        try await withUsersServer(in: directory, configure: { $0.dataDirectory = data }) { _, _ in }
        let database = data + "/users.sqlite"
        let marked = try await runProcess("/usr/bin/sqlite3", ["-cmd", ".timeout 5000", database, "INSERT INTO grdb_migrations VALUES ('9999-from-the-future')"])
        try #require(marked.status == 0, "\(marked.stderr)")
        let schema = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        let before = try await sqlite(database, schema)

        do {
            _ = try await withUsersServer(in: directory, configure: { $0.dataDirectory = data }) { _, _ in
                Issue.record("the server started on a database from a newer version")
            }
        } catch {
            let message = "\(error)"
            #expect(message.contains("newer version") && message.contains("9999-from-the-future"), "\(message)")
        }
        let daemon = try DaemonProcess(
            socketPath: directory.appending("d.sock"), dataDirectory: data, logPath: directory.appending("d.log"))
        #expect(await daemon.waitForExit(seconds: 20) == 1)
        #expect(daemon.log.contains("9999-from-the-future"), "\(daemon.log)")
        #expect(try await sqlite(database, schema) == before, "the refused start changed the schema")
        #expect(try await storageViolations(database).isEmpty)
        #expect(try await sqlite(database, "SELECT count(*) FROM grdb_migrations") == "\(SQLiteStoreMigrations.count + 1)")
    }

    @Test("two daemons starting together on one data directory: migrations run once, both serve, one key")
    func concurrentStart() async throws {
        for attempt in 0..<5 {
            let directory = try TemporaryDirectory(prefix: "two")
            defer { directory.remove() }
            let data = directory.appending("data")
            let a = try DaemonProcess(socketPath: directory.appending("a.sock"), dataDirectory: data, logPath: directory.appending("a.log"))
            let b = try DaemonProcess(socketPath: directory.appending("b.sock"), dataDirectory: data, logPath: directory.appending("b.log"))
            let readyA = await a.waitUntilReady(), readyB = await b.waitUntilReady()
            #expect(readyA && readyB, "attempt \(attempt): \(a.log)\n\(b.log)")
            let database = data + "/users.sqlite"
            let migrations = try await sqlite(database, "SELECT identifier FROM grdb_migrations ORDER BY identifier")
            #expect(migrations.split(separator: "\n").map(String.init) == SQLiteStoreMigrations.known)
            if readyA && readyB {
                // Both use the same key: a link sealed by one opens on the other.
                let clientA = MarketplaceClient(socketPath: a.socketPath), clientB = MarketplaceClient(socketPath: b.socketPath)
                let (account, _, staff) = try await Fixture(client: clientA).accountWithGroups()
                let invited = try await Fixture(client: clientA).invite(account, "two@example.com", groups: [staff])
                let link = try await clientB.accountUsers.getInvitationLink(.init(accountUserId: invited.accountUser?.id ?? ""))
                #expect(link.invitationLink == invited.invitationLink)
                await clientA.close()
                await clientB.close()
            }
            a.signal(SIGTERM)
            b.signal(SIGTERM)
            #expect(await a.waitForExit() == 0)
            #expect(await b.waitForExit() == 0)
        }
    }
}

/// The migrations this build knows.
enum SQLiteStoreMigrations {
    static var known: [String] { SQLiteStore.knownMigrations }
    static var count: Int { known.count }
}
