import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// A program left running while the test acts (an SMTP server, a sender
/// with --follow); its exit is awaited on a thread of its own.
final class BackgroundProcess: @unchecked Sendable {
    let process = Process()
    let stderrPath: String

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], logIn directory: String) throws {
        stderrPath = directory + "/" + UUID().uuidString + ".log"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle(forWritingAtPath: stderrPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        try launchSerialized(process)
    }

    /// A test that failed half-way leaves nothing running.
    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { if process.isRunning { kill(process.processIdentifier, number) } }

    /// Waits for the exit; returns the status (or the signal number).
    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread {
                self.process.waitUntilExit()
                continuation.resume(returning: self.process.terminationStatus)
            }.start()
        }
    }

    /// SIGTERM, then the exit status.
    @discardableResult func stop() async -> Int32 {
        signal(SIGTERM)
        return await wait()
    }
}

/// Polls `condition` every 50 ms until it holds, failing after `seconds`
/// (generous: the machine is shared).
func eventually(
    _ what: String, seconds: Double = 90, sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let end = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < end {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting for: \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}

/// The SMTP server on loopback that stores what it receives
/// (Tests/Mail/smtp-sink.py, on Debian's python3-aiosmtpd).
final class SMTPSink: @unchecked Sendable {
    static let script = repositoryRoot + "/Tests/Mail/smtp-sink.py"

    let mailbox: String
    private(set) var port = 0
    private var process: BackgroundProcess?
    private let logs: String
    private let rejected: [String]

    /// Starts a server storing into `directory`/mailbox on a free port.
    init(in directory: TemporaryDirectory, rejecting rejected: [String] = []) async throws {
        mailbox = directory.appending("mailbox")
        logs = directory.path
        self.rejected = rejected
        try await start()
    }

    /// Starts (again) on the same port once known.
    func start() async throws {
        try? FileManager.default.removeItem(atPath: mailbox + "/port")
        var arguments = [Self.script, "--dir", mailbox, "--port", String(port)]
        for address in rejected { arguments += ["--reject", address] }
        let process = try BackgroundProcess("/usr/bin/python3", arguments, logIn: logs)
        self.process = process
        try await eventually("the SMTP sink listens") {
            if !process.process.isRunning { Issue.record("smtp-sink.py exited: \(process.log)"); throw CancellationError() }
            return FileManager.default.fileExists(atPath: self.mailbox + "/port")
        }
        port = Int(try String(contentsOfFile: mailbox + "/port", encoding: .utf8)) ?? 0
    }

    func stop() async {
        await process?.stop()
        process = nil
    }

    /// Every message received so far, in order (parsed by the sink).
    func messages() throws -> [[String: Any]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: mailbox).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let data = try Data(contentsOf: URL(fileURLWithPath: mailbox + "/" + name))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    /// An msmtp configuration pointing at this server, written to `path` (0600).
    func msmtpConfiguration(at path: String) throws -> String {
        let text = """
            defaults
            auth off
            tls off
            account default
            host 127.0.0.1
            port \(port)
            from noreply@marketplace.example
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return path
    }
}

/// A received message, as the sink parsed it.
struct ReceivedMail {
    let json: [String: Any]
    var headers: [String: String] { json["headers"] as? [String: String] ?? [:] }
    var rawHeaders: [String: String] { json["raw_headers"] as? [String: String] ?? [:] }
    var messageID: String { headers["message-id"] ?? "" }
    var subject: String { headers["subject"] ?? "" }
    var to: [String] { json["rcpt_to"] as? [String] ?? [] }
    func part(_ type: String) -> String { ((json["parts"] as? [String: Any])?[type] as? [String: Any])?["text"] as? String ?? "" }
    func charset(_ type: String) -> String? { ((json["parts"] as? [String: Any])?[type] as? [String: Any])?["charset"] as? String }
    var text: String { part("text/plain") }
    var html: String { part("text/html") }

    /// The invitation link in the plain text part.
    var link: String? {
        text.split(whereSeparator: \.isWhitespace).map(String.init).first { $0.hasPrefix("https://") }
    }
}

/// Runs `outbox deliver` against a server through msmtp and a sink.
struct MailSender {
    let cli: CLI
    let msmtprc: String
    var sendmail = "/usr/bin/msmtp"
    var extra: [String] = []

    var arguments: [String] {
        ["outbox", "deliver", "--from", "Marketplace <noreply@marketplace.example>", "--reply-to", "support@marketplace.example",
         "--sendmail", sendmail, "--sendmail-arg=-C", "--sendmail-arg=\(msmtprc)",
         "--retry-base", "1", "--retry-max", "2", "--poll-interval", "0.2"] + extra
    }

    /// One pass: delivers what is deliverable now; returns the JSON tally.
    func once(_ more: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        try await cli.json(arguments + more, sourceLocation: sourceLocation)
    }

    /// A sender left running with --follow.
    func follow(_ more: [String] = [], logIn directory: String) throws -> BackgroundProcess {
        try BackgroundProcess(
            CLI.path, arguments + more + ["--follow", "--socket", cli.socket],
            environment: ["TZ": "UTC", "MARKETPLACE_USERS_SOCKET": "", "MARKETPLACE_USERS_SESSION_FILE": cli.sessionFile],
            logIn: directory)
    }
}

extension Dictionary where Key == String, Value == Any {
    func int(_ key: String) -> Int? { (self[key] as? NSNumber)?.intValue }
}
