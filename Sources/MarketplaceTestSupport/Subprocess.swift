import Foundation
import Synchronization

/// The outcome of a finished process.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Starts `process`, one start at a time in the whole test process (and
/// never beside a posix_spawn of ``runProcess(_:_:environment:currentDirectory:stdin:)``).
/// Only the mail tests' background programs still start so (moving them to
/// ``ChildProcess`` made full runs hang, twice, cause not found), and
/// `Scripts/test` runs their suites in a test process of their own:
/// swift-corelibs-foundation's `Process.run()` over-reads each
/// `/proc/self/fd` entry (swiftlang/swift-corelibs-foundation#5472), which
/// crashed a CI run, serialized as it was, when the test process held over a
/// thousand descriptors; with the mail suites alone it holds a few dozen.
public func launchSerialized(_ process: Process) throws {
    try launchLock.withLock { _ in try process.run() }
}

/// One process start at a time in the whole test process.
private let launchLock = Mutex(())

/// Runs a program to completion and returns its exit status (or the signal
/// that ended it) and output. Started with posix_spawn, not Foundation's
/// `Process`: swift-corelibs-foundation's `Process.run()` crashes now and then
/// on Linux (a bad `memmove` in it: an over-read of a `/proc/self/fd` entry,
/// swiftlang/swift-corelibs-foundation#5472), which took down a whole test
/// run. Its input is a file holding `stdin` (so no pipe end can be inherited
/// by another child and keep its end of input from coming); its output and
/// errors go to files, read once it has exited.
public func runProcess(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
    currentDirectory: String? = nil, stdin: String? = nil
) async throws -> ProcessResult {
    let directory = try TemporaryDirectory(prefix: "proc")
    defer { directory.remove() }
    let inPath = directory.appending("in"), outPath = directory.appending("out"), errPath = directory.appending("err")
    guard FileManager.default.createFile(atPath: inPath, contents: Data((stdin ?? "").utf8)) else {
        throw SpawnError(description: "cannot write the input of \(executable) to \(inPath)")
    }
    let variables = environment.map { ProcessInfo.processInfo.environment.merging($0) { $1 } }
    let pid = try spawn(
        [executable] + arguments, stdin: inPath, stdout: outPath, stderr: errPath, environment: variables,
        currentDirectory: currentDirectory)
    let status = terminationStatus(await waitStatus(of: pid))
    return ProcessResult(
        status: status,
        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

/// ``runProcess(_:_:environment:currentDirectory:stdin:)`` for synchronous
/// code (one-off probes): blocks the calling thread until `argv` (an absolute
/// path first) ends; its input is empty.
public func runToCompletion(_ argv: [String]) throws -> ProcessResult {
    let directory = try TemporaryDirectory(prefix: "proc")
    defer { directory.remove() }
    let outPath = directory.appending("out"), errPath = directory.appending("err")
    let pid = try spawn(argv, stdin: "/dev/null", stdout: outPath, stderr: errPath, environment: nil, currentDirectory: nil)
    let status = terminationStatus(blockingWaitStatus(of: pid))
    return ProcessResult(
        status: status,
        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

/// Starts `argv` (an absolute path first) with posix_spawn: fds 0, 1 and 2
/// opened on the given files (errors to the output file when `stderr` is nil),
/// every other descriptor of the test process closed, signals unblocked and at
/// their defaults.
func spawn(
    _ argv: [String], stdin: String, stdout: String, stderr: String?, environment: [String: String]?,
    currentDirectory: String?, append: Bool = false, closeInherited: Bool = true
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    let mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, mode, 0o644)
    if let stderr {
        posix_spawn_file_actions_addopen(&actions, 2, stderr, mode, 0o644)
    } else {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    // Nothing else of the test process: a child holding another child's pipe
    // or exit-notification socket, or a file being written (exec of it then
    // fails with ETXTBSY), hangs or breaks other tests.
    if closeInherited {
        guard let addClosefrom = addClosefromAction, addClosefrom(&actions, 3) == 0 else {
            throw SpawnError(description: "cannot start \(argv[0]): no posix_spawn_file_actions_addclosefrom_np")
        }
    }
    if let currentDirectory {
        guard let addChdir = addChdirAction else {
            throw SpawnError(description: "cannot start \(argv[0]) in \(currentDirectory): no posix_spawn_file_actions_addchdir_np")
        }
        let added = addChdir(&actions, currentDirectory)
        guard added == 0 else {
            throw SpawnError(description: "cannot start \(argv[0]) in \(currentDirectory): \(String(cString: strerror(added)))")
        }
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t(), allSignals = sigset_t()
    sigemptyset(&noSignals)
    sigfillset(&allSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let cArguments = argv.map { strdup($0) } + [nil]
    defer { cArguments.forEach { free($0) } }
    let cEnvironment = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
    defer { cEnvironment?.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = launchLock.withLock { _ in
        if let cEnvironment {
            return posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, cEnvironment)
        }
        return posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
    }
    guard spawned == 0 else {
        throw SpawnError(description: "cannot start \(argv[0]): \(String(cString: strerror(spawned)))")
    }
    return pid
}

/// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+), which Swift's
/// Glibc module does not show.
private let addChdirAction: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
    return unsafeBitCast(
        symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
}()

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's
/// Glibc module does not show.
private let addClosefromAction: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()

/// Waits (on a thread of its own) for child `pid` to end; its raw wait status.
private func waitStatus(of pid: pid_t) async -> Int32 {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: blockingWaitStatus(of: pid)) }.start()
    }
}

/// Blocks the calling thread until child `pid` ends; its raw wait status.
func blockingWaitStatus(of pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
}

/// As Foundation's `terminationStatus`: the exit code in a raw wait status, or
/// the number of the signal that ended the process plus `signalBase`.
func terminationStatus(_ status: Int32, signalBase: Int32 = 0) -> Int32 {
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : signalBase + signal
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

/// Starts `argv` (an absolute path first) with posix_spawn, holding no
/// descriptor of the test process and no blocked or ignored signal: it runs through a tiny exec wrapper that
/// closes every descriptor above 2, changes to `currentDirectory`, then execs
/// the program (`posix_spawn_file_actions_addclosefrom_np` is not visible to
/// Swift). Its input is /dev/null; its output and errors are appended to
/// `log`. For programs that outlive the call or start servers (initdb,
/// pg_ctl and the postmaster it leaves running, watchdogs): one that kept
/// Foundation's exit-notification socket of another child, or the write end
/// of a CLI test's stdin pipe, hung that test or Scripts/test for good.
/// Returns the child's pid; the caller waits for it (``waitForSpawned(_:)``)
/// or leaves it to run.
public func spawnWithoutInheritedDescriptors(_ argv: [String], log: String, currentDirectory: String = "/") throws -> pid_t {
    let closeAndExec =
        "import os, sys; os.closerange(3, max(65536, os.sysconf('SC_OPEN_MAX'))); os.chdir(sys.argv[1]); os.execv(sys.argv[2], sys.argv[2:])"
    let full = ["/usr/bin/python3", "-c", closeAndExec, currentDirectory] + argv
    // The wrapper closes the descriptors itself (as it always has).
    return try spawn(
        full, stdin: "/dev/null", stdout: log, stderr: nil, environment: nil, currentDirectory: nil, append: true,
        closeInherited: false)
}

/// Waits (on a thread of its own) for a child started by
/// ``spawnWithoutInheritedDescriptors(_:log:currentDirectory:)``; its exit
/// status, or 128 + the signal that ended it.
public func waitForSpawned(_ pid: pid_t) async -> Int32 {
    terminationStatus(await waitStatus(of: pid), signalBase: 128)
}

/// Runs `argv` to its end without any descriptor of the test process (see
/// ``spawnWithoutInheritedDescriptors(_:log:currentDirectory:)``); its exit status.
public func runWithoutInheritedDescriptors(_ argv: [String], log: String, currentDirectory: String = "/") async throws -> Int32 {
    await waitForSpawned(try spawnWithoutInheritedDescriptors(argv, log: log, currentDirectory: currentDirectory))
}

public struct SpawnError: Error, CustomStringConvertible {
    public let description: String
}

/// Copies the program at `source` to `destination` (mode 0755) through
/// descriptors opened close-on-exec: a program another test spawns meanwhile
/// cannot inherit the copy open for writing, which would make exec of the copy
/// fail with ETXTBSY ("text file busy"), as FileManager's copy did now and then.
public func copyExecutable(from source: String, to destination: String) throws {
    let input = open(source, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw SpawnError(description: "cannot read \(source): \(String(cString: strerror(errno)))") }
    defer { close(input) }
    let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
    guard output >= 0 else { throw SpawnError(description: "cannot create \(destination): \(String(cString: strerror(errno)))") }
    defer { close(output) }
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count >= 0 else { throw SpawnError(description: "cannot read \(source): \(String(cString: strerror(errno)))") }
        if count == 0 { return }
        var written = 0
        while written < count {
            let step = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, count - written) }
            if step < 0 && errno == EINTR { continue }
            guard step > 0 else { throw SpawnError(description: "cannot write \(destination): \(String(cString: strerror(errno)))") }
            written += step
        }
    }
}
