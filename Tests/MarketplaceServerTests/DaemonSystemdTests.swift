import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Synchronization
import Testing

/// A datagram socket the test owns, standing in for systemd's notification
/// socket (NOTIFY_SOCKET): a path, or a name in the abstract namespace.
final class NotifyListener: Sendable {
    let fd: Int32
    /// The value for NOTIFY_SOCKET.
    let address: String
    private let messages = Mutex<[String]>([])

    init(path: String? = nil, abstractName: String? = nil) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes: [UInt8]
        if let abstractName {
            bytes = [0] + Array(abstractName.utf8)
            self.address = "@" + abstractName
        } else {
            bytes = Array(path!.utf8) + [0]
            self.address = path!
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0 else { throw RPCError(.internal, "cannot bind the notify socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Every message received so far, after waiting up to `seconds` for one
    /// that contains `fragment`.
    func waitFor(_ fragment: String, seconds: Double = 30) async -> [String] {
        let fd = self.fd
        return (try? await onThread { [self] () -> [String] in
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline, !messages.withLock({ $0.contains { $0.contains(fragment) } }) {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 { messages.withLock { $0.append(String(decoding: buffer.prefix(n), as: UTF8.self)) } }
            }
            return messages.withLock { $0 }
        }) ?? []
    }
}

extension DaemonOperationsTests {
    @Suite("systemd: readiness and stopping notifications, watchdog, socket activation, unit files", .serialized)
    struct DaemonSystemdTests {
        private func notifyRun(_ listener: NotifyListener, in directory: TemporaryDirectory) async throws {
            let socket = directory.appending("s.sock")
            let daemon = try DaemonProcess(
                socketPath: socket, dataDirectory: directory.appending("data"), logPath: directory.appending("d.log"),
                environment: ["NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "400000"])
            let ready = await listener.waitFor("READY=1")
            let readyMessage = try #require(ready.first { $0.contains("READY=1") }, "no READY=1: \(ready) \(daemon.log)")
            #expect(readyMessage.contains("STATUS=serving on "), "\(readyMessage)")
            #expect(readyMessage.contains("MAINPID=\(daemon.pid)"), "\(readyMessage)")
            // READY=1 comes once the socket answers.
            #expect(await daemon.waitUntilReady(seconds: 5))
            let pinged = await listener.waitFor("WATCHDOG=1")
            #expect(pinged.contains("WATCHDOG=1"), "no watchdog ping: \(pinged)")
            daemon.signal(SIGTERM)
            let all = await listener.waitFor("STOPPING=1")
            let stopping = all.firstIndex { $0.contains("STOPPING=1") }
            let readyIndex = all.firstIndex { $0.contains("READY=1") }
            #expect(stopping != nil && readyIndex != nil && readyIndex! < stopping!, "\(all)")
            #expect(all.contains { $0.contains("STOPPING=1") && $0.contains("STATUS=stopping: received SIGTERM") }, "\(all)")
            #expect(await daemon.waitForExit() == 0)
            #expect(!exists(socket))
        }

        @Test("READY=1, WATCHDOG=1 and STOPPING=1 reach NOTIFY_SOCKET (a path)")
        func notifyPath() async throws {
            let directory = try TemporaryDirectory(prefix: "notify")
            defer { directory.remove() }
            try await notifyRun(NotifyListener(path: directory.appending("notify.sock")), in: directory)
        }

        @Test("NOTIFY_SOCKET in the abstract namespace (@name)")
        func notifyAbstract() async throws {
            let directory = try TemporaryDirectory(prefix: "notifya")
            defer { directory.remove() }
            try await notifyRun(NotifyListener(abstractName: "marketplace-test-\(UUID().uuidString)"), in: directory)
        }

        static let socketActivate = "/usr/bin/systemd-socket-activate"

        @Test(
            "Socket activation: the daemon serves the inherited socket and leaves its file in place",
            .enabled(
                if: FileManager.default.isExecutableFile(atPath: socketActivate),
                "systemd-socket-activate is not installed (Debian package systemd)"))
        func socketActivation() async throws {
            let directory = try TemporaryDirectory(prefix: "activ")
            defer { directory.remove() }
            let socket = directory.appending("s.sock")
            let notify = try NotifyListener(path: directory.appending("notify.sock"))
            // systemd-socket-activate binds and listens, then on the first
            // connection execs the daemon with LISTEN_FDS=1 and LISTEN_PID.
            let daemon = try DaemonProcess(
                socketPath: socket, dataDirectory: directory.appending("data"), logPath: directory.appending("d.log"),
                launcher: [Self.socketActivate, "-l", socket, "-E", "NOTIFY_SOCKET=\(notify.address)"])
            try #require(await daemon.waitUntilReady(), "not serving: \(daemon.log)")
            #expect(await notify.waitFor("READY=1").contains { $0.contains("READY=1") })
            #expect(daemon.log.contains("socket_activation=fd 3"), "\(daemon.log)")
            let client = MarketplaceClient(socketPath: socket)
            _ = try await Fixture(client: client).account("Activated")
            await client.close()
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0, "\(daemon.log)")
            #expect(exists(socket), "the daemon unlinked the socket it inherited (the socket unit owns it)")
            #expect(daemon.log.contains("stopped: received SIGTERM"), "\(daemon.log)")
        }

        static let analyze = "/usr/bin/systemd-analyze"

        @Test(
            "systemd-analyze verify accepts the unit files",
            .enabled(
                if: FileManager.default.isExecutableFile(atPath: analyze),
                "systemd-analyze is not installed (Debian package systemd)"))
        func unitFilesVerify() async throws {
            let directory = try TemporaryDirectory(prefix: "units")
            defer { directory.remove() }
            let deploy = packageRoot + "/deploy"
            var paths: [String] = []
            for name in ["marketplace-usersd.socket", "marketplace-usersd.service"] {
                var text = try String(contentsOfFile: deploy + "/" + name, encoding: .utf8)
                // verify checks that ExecStart= exists: point it at the built binary.
                text = text.replacingOccurrences(of: "/usr/local/bin/marketplace-usersd", with: DaemonProcess.executable)
                try text.write(toFile: directory.appending(name), atomically: true, encoding: .utf8)
                paths.append(directory.appending(name))
            }
            let service = try String(contentsOfFile: deploy + "/marketplace-usersd.service", encoding: .utf8)
            for required in [
                "Type=notify", "User=marketplace-users", "RuntimeDirectory=", "StateDirectory=", "ProtectSystem=strict",
                "NoNewPrivileges=yes", "PrivateTmp=yes", "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec=",
            ] {
                #expect(service.contains(required), "the service unit lacks \(required)")
            }
            let result = try await runProcess(Self.analyze, ["verify", "--man=no"] + paths)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            let complaints = (result.stdout + result.stderr).split(separator: "\n").filter { $0.contains("marketplace-usersd") }
            #expect(complaints.isEmpty, "\(complaints)")
        }
    }
}

/// The package's root directory (this file is Tests/MarketplaceServerTests/...).
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
