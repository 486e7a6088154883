import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

extension DaemonOperationsTests {
    @Suite("Signals of the real daemon: SIGHUP reloads, every way out removes the socket", .serialized)
    struct DaemonSignalTests {
        @Test("SIGHUP is logged, never kills the daemon, and re-reads the log level file")
        func sighupReloads() async throws {
            let directory = try TemporaryDirectory(prefix: "hup")
            defer { directory.remove() }
            let socket = directory.appending("s.sock")
            let levelFile = directory.appending("log-level")
            try "info\n".write(toFile: levelFile, atomically: true, encoding: .utf8)
            let daemon = try DaemonProcess(
                socketPath: socket, dataDirectory: directory.appending("data"), logPath: directory.appending("d.log"),
                arguments: ["--log-level-file", levelFile])
            try #require(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
            let client = MarketplaceClient(socketPath: socket)
            defer { Task { await client.close() } }
            _ = try await client.health.check()
            #expect(await daemon.waitForLog("Health/Check"), "no per-call line at info: \(daemon.log)")

            try "warning\n".write(toFile: levelFile, atomically: true, encoding: .utf8)
            daemon.signal(SIGHUP)
            #expect(await daemon.waitForLog("log level info -> warning"), "no reload line: \(daemon.log)")
            #expect(daemon.isRunning, "SIGHUP killed the daemon: \(daemon.log)")
            let callLines = daemon.logLines(containing: "Health/Check").count
            #expect(try await client.health.check().status == .serving)
            #expect(try await client.health.check().status == .serving)

            // A second SIGHUP with the level back to info: calls are logged again.
            try "info\n".write(toFile: levelFile, atomically: true, encoding: .utf8)
            daemon.signal(SIGHUP)
            #expect(await daemon.waitForLog("log level warning -> info"), "no second reload line: \(daemon.log)")
            #expect(daemon.logLines(containing: "Health/Check").count == callLines, "calls logged at warning")
            _ = try await client.health.check()
            #expect(await daemon.waitForLog { $0.components(separatedBy: "Health/Check").count - 1 > callLines })

            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0)
            #expect(!exists(socket), "socket left behind")
            #expect(daemon.log.contains("SIGTERM"), "the exit does not say why: \(daemon.log)")
        }

        @Test("SIGHUP without a log level file is logged and changes nothing", .timeLimit(.minutes(2)))
        func sighupWithoutFile() async throws {
            let directory = try TemporaryDirectory(prefix: "hup2")
            defer { directory.remove() }
            let socket = directory.appending("s.sock")
            let daemon = try DaemonProcess(
                socketPath: socket, dataDirectory: directory.appending("data"), logPath: directory.appending("d.log"))
            try #require(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
            daemon.signal(SIGHUP)
            #expect(await daemon.waitForLog("SIGHUP"), "SIGHUP not logged: \(daemon.log)")
            #expect(await daemon.waitUntilReady(seconds: 5), "not serving after SIGHUP: \(daemon.log)")
            #expect(exists(socket))
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0)
        }

        @Test("SIGINT and SIGQUIT end the daemon gracefully: socket removed, reason logged", arguments: [SIGINT, SIGQUIT])
        func otherSignalsEndGracefully(signal: Int32) async throws {
            let directory = try TemporaryDirectory(prefix: "sig")
            defer { directory.remove() }
            let socket = directory.appending("s.sock")
            let daemon = try DaemonProcess(
                socketPath: socket, dataDirectory: directory.appending("data"), logPath: directory.appending("d.log"))
            try #require(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
            daemon.signal(signal)
            #expect(await daemon.waitForExit() == 0, "\(daemon.log)")
            #expect(!exists(socket), "socket left behind")
            let name = signal == SIGINT ? "SIGINT" : "SIGQUIT"
            #expect(daemon.log.contains("stopping: received \(name)"), "\(daemon.log)")
        }
    }
}
