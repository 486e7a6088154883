import Foundation

/// Progress of a long run on stderr: a bar redrawn in place on a terminal,
/// plain lines otherwise (logs, CI).
struct Progress {
    let total: Int
    let isTerminal: Bool
    private var lastDrawn = -1

    init(total: Int, isTerminal: Bool = Terminal.stderrIsTerminal) {
        self.total = total
        self.isTerminal = isTerminal
    }

    /// Reports that `done` of `total` are finished; `line` describes the last one.
    mutating func update(done: Int, line: String, counts: String) {
        if isTerminal {
            let width = 30
            let filled = total == 0 ? width : done * width / total
            let percent = total == 0 ? 100 : done * 100 / total
            guard percent != lastDrawn || done == total else { return }
            lastDrawn = percent
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            Terminal.write("\r[\(bar)] \(done)/\(total) \(percent)%  \(counts)\u{1B}[K")
            if done == total { Terminal.write("\n") }
        } else {
            Terminal.write("[\(done)/\(total)] \(line)\n")
        }
    }
}
