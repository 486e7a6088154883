import Foundation
import Synchronization

/// The outcome of a finished process.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Starts `process`, one start at a time in the whole test process:
/// swift-corelibs-foundation's `Process.run()` crashed (a bad `memmove`
/// inside it) when many tests started programs at once on several threads.
public func launchSerialized(_ process: Process) throws {
    try launchLock.withLock { _ in try process.run() }
}

private let launchLock = Mutex(())

/// Waits for `process` to end and returns its exit status (or the signal
/// that ended it). swift-corelibs-foundation learns of a child's exit when a
/// descriptor the child holds is closed; a program spawned at that moment by
/// other code (not through ``launchSerialized(_:)``) may inherit it and keep
/// it open, and then the child stays a zombie and `waitUntilExit()` never
/// returns. That was the PostgreSQL test cluster's posix_spawn, which now
/// closes every inherited descriptor (the fix at its source); this poll, which
/// reaps a child that stayed a zombie for a second, guards against any other
/// spawner doing the same.
public func waitForExit(_ process: Process) -> Int32 {
    let pid = process.processIdentifier
    var zombieSince: ContinuousClock.Instant?
    while process.isRunning {
        if isZombie(pid) {
            let since = zombieSince ?? .now
            zombieSince = since
            if ContinuousClock.now - since > .seconds(1) {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    let signal = status & 0x7f
                    return signal == 0 ? (status >> 8) & 0xff : signal
                }
            }
        }
        usleep(10_000)
    }
    return process.terminationStatus
}

/// Whether `pid` has exited and waits to be reaped.
private func isZombie(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

/// Runs a program to completion on a thread of its own (never blocking Swift's
/// cooperative pool) and returns its exit status and output.
public func runProcess(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
    currentDirectory: String? = nil, stdin: String? = nil
) async throws -> ProcessResult {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result {
                let directory = try TemporaryDirectory(prefix: "proc")
                defer { directory.remove() }
                let outPath = directory.appending("out"), errPath = directory.appending("err")
                _ = FileManager.default.createFile(atPath: outPath, contents: nil)
                _ = FileManager.default.createFile(atPath: errPath, contents: nil)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                if let environment {
                    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                }
                if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
                process.standardOutput = FileHandle(forWritingAtPath: outPath)
                process.standardError = FileHandle(forWritingAtPath: errPath)
                let input = Pipe()
                process.standardInput = input
                try launchSerialized(process)
                // A child may exit without reading its input: the throwing
                // write reports EPIPE instead of trapping like write(_:) does.
                if let stdin, !stdin.isEmpty { try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8)) }
                try? input.fileHandleForWriting.close()
                let status = waitForExit(process)
                return ProcessResult(
                    status: status,
                    stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                    stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
            })
        }.start()
    }
}

/// The repository's root directory, found from this file's location.
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The directory holding the built executables (next to the test bundle).
public var builtProductsDirectory: String {
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("marketplace-users").path) {
        url.deleteLastPathComponent()
    }
    return url.path
}
