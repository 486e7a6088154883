import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

extension DaemonOperationsTests {
    @Suite("Configuration of the real daemon: strict environment, clean refusals", .serialized)
    struct DaemonConfigurationTests {
        /// Starts the daemon with `environment`; it must exit (killed after 20 s if not).
        private func refusedStart(
            environment: [String: String] = [:], arguments: [String] = [], socket: String? = nil, data: String? = nil,
            in directory: TemporaryDirectory
        ) async throws -> (status: Int32?, log: String) {
            let daemon = try DaemonProcess(
                socketPath: socket ?? directory.appending("s.sock"), dataDirectory: data ?? directory.appending("data"),
                logPath: directory.appending("d-\(UUID().uuidString.prefix(8)).log"), arguments: arguments,
                environment: environment)
            let status = await daemon.waitForExit(seconds: 20)
            return (status, daemon.log)
        }

        @Test("A bad environment value exits 64 naming the variable, as the flag would", arguments: [
            ("MARKETPLACE_USERS_MAX_CONNECTIONS", "abc"),
            ("MARKETPLACE_USERS_SHUTDOWN_GRACE", "ten"),
            ("MARKETPLACE_USERS_OPERATOR_UIDS", "1000,bob"),
            ("MARKETPLACE_USERS_OPERATOR_GIDS", "12,"),
            ("MARKETPLACE_USERS_MAX_CALLS_PER_CONNECTION", "0"),
            ("MARKETPLACE_USERS_HASHING_THREADS", "many"),
            ("MARKETPLACE_USERS_SESSION_IDLE_TIMEOUT", "30"),
            ("MARKETPLACE_USERS_SOCKET_MODE", "999"),
            ("MARKETPLACE_USERS_LOG_LEVEL", "loud"),
            ("MARKETPLACE_USERS_INVITATION_TTL", "forever"),
            ("MARKETPLACE_USERS_LOG_FORMAT", "xml"),
        ])
        func strictEnvironment(variable: String, value: String) async throws {
            let directory = try TemporaryDirectory(prefix: "env")
            defer { directory.remove() }
            let (status, log) = try await refusedStart(environment: [variable: value], in: directory)
            #expect(status == 64, "\(variable)=\(value): exit \(String(describing: status)): \(log)")
            #expect(log.contains(variable), "the error does not name \(variable): \(log)")
            #expect(!exists(directory.appending("data")), "a refused start created the data directory")
        }

        @Test("The same values as flags exit 64 naming the flag")
        func strictFlags() async throws {
            let directory = try TemporaryDirectory(prefix: "flag")
            defer { directory.remove() }
            let (status, log) = try await refusedStart(arguments: ["--operator-uid", "bob"], in: directory)
            #expect(status == 64, "\(log)")
            #expect(log.contains("--operator-uid"), "\(log)")
        }

        @Test("A busy socket: the refused start creates no data directory, database or key")
        func busySocketCreatesNothing() async throws {
            let directory = try TemporaryDirectory(prefix: "busy")
            defer { directory.remove() }
            let socket = directory.appending("s.sock")
            let first = try DaemonProcess(
                socketPath: socket, dataDirectory: directory.appending("data1"), logPath: directory.appending("1.log"))
            try #require(await first.waitUntilReady(), "first daemon did not start: \(first.log)")
            let (status, log) = try await refusedStart(socket: socket, data: directory.appending("data2"), in: directory)
            #expect(status == 1, "\(log)")
            #expect(log.contains("already listening"), "\(log)")
            #expect(!exists(directory.appending("data2")), "a refused start created the data directory")
            #expect(await first.waitUntilReady(seconds: 5), "the first daemon was disturbed")
            first.signal(SIGTERM)
            #expect(await first.waitForExit() == 0)
        }

        @Test("A socket path too long: the refused start creates no directory")
        func tooLongSocketCreatesNothing() async throws {
            let directory = try TemporaryDirectory(prefix: "long")
            defer { directory.remove() }
            let socket = directory.appending(String(repeating: "s", count: 120) + ".sock")
            let (status, log) = try await refusedStart(socket: socket, in: directory)
            #expect(status == 1, "\(log)")
            #expect(log.contains("longer than"), "\(log)")
            #expect(!exists(directory.appending("data")), "a refused start created the data directory")
        }

        @Test("A start refused after the database was created removes the database it created")
        func refusedAfterCreationCleansUp() async throws {
            let directory = try TemporaryDirectory(prefix: "key")
            defer { directory.remove() }
            let data = directory.appending("data")
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            // A key file readable by others: refused once the database is open.
            let key = data + "/secrets.key"
            _ = FileManager.default.createFile(atPath: key, contents: Data(repeating: 7, count: 32), attributes: [.posixPermissions: 0o644])
            let (status, log) = try await refusedStart(data: data, in: directory)
            #expect(status == 1, "\(log)")
            #expect(log.contains("chmod 600"), "\(log)")
            let left = try FileManager.default.contentsOfDirectory(atPath: data).sorted()
            #expect(left == ["secrets.key"], "left behind: \(left)")
            #expect(!exists(directory.appending("s.sock")))
        }
    }
}
