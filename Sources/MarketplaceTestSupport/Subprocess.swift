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
                process.waitUntilExit()
                return ProcessResult(
                    status: process.terminationStatus,
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
