#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The few terminal facts and interactions the CLI needs.
enum Terminal {
    static var stdinIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Writes `text` to stderr without a newline (prompts, progress).
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Reads one line from stdin without its newline; nil at end of input.
    static func readLine() -> String? {
        Swift.readLine(strippingNewline: true)
    }

    /// A password: the next line of stdin with `fromStdin`, else typed without
    /// echo on a terminal; never from an argument.
    /// - Throws: `CLIFailure` (exit 64) when there is nothing to read it from.
    static func readPassword(fromStdin: Bool, prompt: String) throws(CLIFailure) -> String {
        if fromStdin {
            guard let line = readLine(), !line.isEmpty else {
                throw CLIFailure("--password-stdin: no password line on stdin", exitStatus: CLIErrors.ExitStatus.usage)
            }
            return line.hasSuffix("\r") ? String(line.dropLast()) : line
        }
        guard stdinIsTerminal else {
            throw CLIFailure("no terminal to read the password from; pipe it with --password-stdin", exitStatus: CLIErrors.ExitStatus.usage)
        }
        return readLineWithoutEcho(prompt: prompt) ?? ""
    }

    /// A new password typed twice without echo; when the two differ it says so
    /// and asks again, up to 3 times.
    /// - Throws: `CLIFailure` (exit 64) after 3 mismatches or at end of input.
    static func readNewPassword(prompt: String, attempts: Int = 3) throws(CLIFailure) -> String {
        for attempt in 1...attempts {
            guard let first = readLineWithoutEcho(prompt: prompt),
                  let second = readLineWithoutEcho(prompt: "Type it again: ")
            else { break }
            if first == second { return first }
            if attempt < attempts { write("The two passwords differ; try again.\n") }
        }
        throw CLIFailure("the passwords typed did not match; nothing was changed", exitStatus: CLIErrors.ExitStatus.usage)
    }

    /// Reads one line with echo turned off (a password on a terminal).
    static func readLineWithoutEcho(prompt: String) -> String? {
        write(prompt)
        var saved = termios()
        let haveTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
        if haveTerminal {
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            silent.c_lflag |= tcflag_t(ICANON)
            _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        }
        defer {
            if haveTerminal { _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
            write("\n")
        }
        return readLine()
    }
}

/// Asks before a destructive command: on a terminal it prompts; otherwise it
/// refuses (exit 64) unless `--yes` was given.
enum Confirmation {
    /// - Parameters:
    ///   - question: e.g. "Remove Ada Lovelace (ada@example.com) from ACC-1234-5678?"
    ///   - flagGiven: whether `--yes` was passed.
    ///   - action: the verb for the refusal message, e.g. "remove AUSR-...".
    ///   - askOnly: false only checks that someone can be asked; true asks.
    static func require(_ question: String, yes flagGiven: Bool, action: String, askOnly: Bool = true) throws(CLIFailure) {
        if flagGiven { return }
        guard Terminal.stdinIsTerminal else {
            throw CLIFailure(
                "refusing to \(action) without confirmation: stdin is not a terminal; pass --yes to confirm",
                exitStatus: CLIErrors.ExitStatus.usage)
        }
        guard askOnly else { return }
        Terminal.write("\(question) [y/N] ")
        let answer = (Terminal.readLine() ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        guard answer == "y" || answer == "yes" else {
            throw CLIFailure("cancelled: nothing was changed", exitStatus: CLIErrors.ExitStatus.usage)
        }
    }
}
