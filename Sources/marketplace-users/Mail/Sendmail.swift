import Foundation

/// The system's mail transfer agent through the standard Unix interface:
/// `sendmail -t -oi` reads one message on stdin, takes the recipients from its
/// headers, and exits 0 once it has accepted the message (msmtp, Postfix and
/// Exim all provide it).
struct Sendmail: Sendable {
    /// What the agent answered.
    enum Outcome: Sendable, Equatable {
        case accepted
        /// Retrying cannot help (the address was rejected).
        case permanent(String)
        /// Worth trying again later (server down, timeout, ...).
        case temporary(String)
    }

    let path: String
    let extraArguments: [String]
    /// How long the agent may take for one message before it is stopped
    /// (a temporary failure).
    let timeout: Duration

    /// sysexits.h codes that mean "this message cannot be delivered, ever":
    /// EX_DATAERR 65 (msmtp's answer to a recipient the server rejected with
    /// 5xx), EX_NOUSER 67 (unknown user), EX_NOHOST 68 (unknown host).
    /// Everything else that is not 0 (EX_TEMPFAIL 75, EX_UNAVAILABLE 69,
    /// EX_IOERR 74, EX_PROTOCOL 76, EX_CONFIG 78, a crash, a timeout, ...) is
    /// temporary: a misconfigured or unreachable agent must not fail messages.
    static let permanentStatuses: [Int32: String] = [65: "EX_DATAERR", 67: "EX_NOUSER", 68: "EX_NOHOST"]

    /// Checks that the agent can be run at all (at start).
    func check() throws(CLIFailure) {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CLIFailure(
                "--sendmail \(path): not an executable file; install an MTA (msmtp-mta, postfix) or pass its sendmail path",
                exitStatus: MailExit.config)
        }
    }

    /// Hands `message` to the agent and waits for its answer, on a thread of
    /// its own (never blocking Swift's cooperative pool).
    func send(_ message: String) async -> Outcome {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: run(message)) }.start()
        }
    }

    private func run(_ message: String) -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-t", "-oi"] + extraArguments
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = errors
        do { try process.run() } catch {
            return .temporary("cannot run \(path): \(error.localizedDescription)")
        }
        // Read the agent's complaints while it runs, so a chatty agent never blocks.
        let collected = ErrorText()
        let reader = Thread { collected.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(timeout.components.seconds * 1000)), execute: timer)
        let written = Result { try input.fileHandleForWriting.write(contentsOf: Data(message.utf8)) }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        timer.cancel()
        let stderr = collected.wait()
        let detail = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.suffix(3).joined(separator: " | ")
        let said = detail.isEmpty ? "" : ": \(detail.prefix(600))"
        if process.terminationReason == .uncaughtSignal {
            return .temporary("\(path) was stopped by signal \(process.terminationStatus) (timeout \(timeout.components.seconds)s?)\(said)")
        }
        let status = process.terminationStatus
        if status == 0 {
            if case .failure(let error) = written { return .temporary("\(path) exited 0 without reading the message (\(error))") }
            return .accepted
        }
        if let name = Self.permanentStatuses[status] {
            return .permanent("\(path) rejected the message: exit \(status) (\(name))\(said)")
        }
        return .temporary("\(path) exited \(status)\(said)")
    }
}

/// The agent's stderr, handed from the reading thread.
private final class ErrorText: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var text = ""

    func set(_ data: Data) {
        text = String(decoding: data, as: UTF8.self)
        done.signal()
    }

    func wait() -> String {
        done.wait()
        return text
    }
}
