#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The service manager's notification socket (sd_notify(3)): `READY=1`,
/// `STOPPING=1`, `STATUS=...` and `WATCHDOG=1`, each one datagram to the
/// `AF_UNIX` path in `NOTIFY_SOCKET` (a leading `@` names the abstract
/// namespace). Without `NOTIFY_SOCKET` every call does nothing.
public final class SystemdNotifier: Sendable {
    /// The socket address; nil when not run by a service manager.
    public let socketPath: String?
    /// How often the manager expects `WATCHDOG=1` (`WATCHDOG_USEC`), if it does.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`, then removes
    /// them from the environment so no child process inherits them.
    public static func fromEnvironment() -> SystemdNotifier {
        let environment = ProcessInfo.processInfo.environment
        defer {
            unsetenv("NOTIFY_SOCKET")
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
        }
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        var interval: Duration?
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0,
           environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true {
            interval = .microseconds(Int64(clamping: usec))
        }
        return SystemdNotifier(socketPath: path, watchdogInterval: interval)
    }

    public init(socketPath: String?, watchdogInterval: Duration? = nil) {
        self.socketPath = socketPath
        self.watchdogInterval = watchdogInterval
    }

    /// Tells the manager start-up is complete.
    public func ready(status: String) { send("READY=1\nSTATUS=\(status)\nMAINPID=\(getpid())") }
    /// Tells the manager the service is shutting down.
    public func stopping(status: String) { send("STOPPING=1\nSTATUS=\(status)") }
    /// Updates the one-line status `systemctl status` shows.
    public func status(_ text: String) { send("STATUS=\(text)") }
    /// Keeps the watchdog from restarting the service.
    public func watchdog() { send("WATCHDOG=1") }

    /// Sends one datagram; failures are ignored, as sd_notify's callers do.
    /// Returns whether it was sent.
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let socketPath, socketPath.hasPrefix("/") || socketPath.hasPrefix("@") else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(socketPath.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        // An abstract address is exactly as long as its name; a path ends at its NUL.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let payload = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                payload.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sockaddrPointer, length) }
            }
        }
        return sent == payload.count
    }
}

extension SystemdNotifier {
    /// While the task is not cancelled, sends `WATCHDOG=1` every half
    /// `WATCHDOG_USEC`, each time after `check` succeeds (a stuck server stops
    /// pinging and the manager restarts it). Returns at once without a watchdog.
    public func runWatchdog(check: @Sendable () async -> Bool) async {
        guard let interval = watchdogInterval, socketPath != nil else { return }
        let period = interval / 2
        while !Task.isCancelled {
            try? await Task.sleep(for: period)
            if Task.isCancelled { return }
            if await check() { watchdog() }
        }
    }
}
