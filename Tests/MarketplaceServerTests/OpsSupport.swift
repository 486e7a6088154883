import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// The operations suites (signals, configuration, systemd, observability,
/// backup) each run several daemons as subprocesses: one suite at a time, so
/// that together they do not swamp a 2-core machine the other suites share.
@Suite("The real daemon, as operators run it", .serialized)
enum DaemonOperationsTests {}

extension DaemonProcess {
    /// Waits until the daemon's log satisfies `condition`; false after `seconds`.
    func waitForLog(seconds: Double = 20, _ condition: (String) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition(log) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition(log)
    }

    /// Waits until the log contains `fragment`.
    func waitForLog(_ fragment: String, seconds: Double = 20) async -> Bool {
        await waitForLog(seconds: seconds) { $0.contains(fragment) }
    }

    /// Lines of the log that contain `fragment`.
    func logLines(containing fragment: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { $0.contains(fragment) }
    }
}

/// Whether something exists at `path` (a file, directory or socket).
func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

/// The permission bits of `path`.
func mode(_ path: String) -> UInt32 {
    var st = stat()
    guard stat(path, &st) == 0 else { return 0 }
    return UInt32(st.st_mode & 0o777)
}
