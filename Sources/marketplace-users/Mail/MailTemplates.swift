import Foundation

/// The kinds of outbox message, by the names template files use.
enum MailKind: String, CaseIterable, Sendable {
    case invitation, resend, newInvitation = "new_invitation", removal

    /// The fields a template of this kind may use.
    var fields: Set<String> {
        let common: Set<String> = [
            "platform_name", "account_name", "recipient_name", "recipient_first_name", "recipient_last_name", "recipient_email",
        ]
        return self == .removal ? common : common.union(["inviter_name", "invitation_link", "expires_at"])
    }
}

/// One parsed template: literal text and `{{field}}` references.
struct MailTemplate: Sendable {
    enum Piece: Sendable { case text(String), field(String) }
    let pieces: [Piece]

    /// Parses `source`; every field must be one of `known`.
    ///
    /// - Throws: a message naming the unknown field, or the unclosed `{{`.
    init(_ source: String, known: Set<String>, file: String) throws(CLIFailure) {
        var pieces: [Piece] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            pieces.append(.text(String(rest[..<open.lowerBound])))
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                let line = source[..<open.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).count
                throw MailTemplates.invalid("\(file): line \(line): \"{{\" is not closed with \"}}\"")
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard known.contains(name) else {
                throw MailTemplates.invalid(
                    "\(file): unknown field {{\(name)}}; this kind of message has: \(known.sorted().joined(separator: ", "))")
            }
            pieces.append(.field(name))
            rest = rest[close.upperBound...]
        }
        pieces.append(.text(String(rest)))
        self.pieces = pieces
    }

    func render(_ values: [String: String], escape: (String) -> String = { $0 }) -> String {
        pieces.map { piece in
            switch piece {
            case .text(let text): text
            case .field(let name): escape(values[name] ?? "")
            }
        }.joined()
    }
}

/// The templates of every kind and language: the shipped defaults, replaced or
/// extended by the files of an override directory. Loading checks them all, so
/// a broken template stops the sender at start, naming the file and the field.
struct MailTemplates: Sendable {
    struct Set3: Sendable {
        let subject: MailTemplate
        let text: MailTemplate
        let html: MailTemplate
    }

    /// By kind, then language tag (lowercase, e.g. `en`, `de`, `pt-br`).
    let byKind: [MailKind: [String: Set3]]

    static let defaultLanguage = "en"

    static func invalid(_ message: String) -> CLIFailure {
        CLIFailure("invalid mail template: \(message)", exitStatus: MailExit.config)
    }

    /// The default files, with those of `directory` (if any) in their place.
    static func load(overrides directory: String?) throws(CLIFailure) -> MailTemplates {
        var files = DefaultMailTemplates.files
        if let directory {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
                throw CLIFailure("--templates \(directory): cannot read the directory (\(error.localizedDescription))", exitStatus: MailExit.config)
            }
            for name in names.sorted() where !name.hasPrefix(".") {
                guard parseName(name) != nil else {
                    throw invalid("\(directory)/\(name): not a template name; expected KIND.LANGUAGE.txt or KIND.LANGUAGE.html with KIND one of \(MailKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                guard let data = FileManager.default.contents(atPath: directory + "/" + name),
                      let text = String(data: data, encoding: .utf8) else {
                    throw invalid("\(directory)/\(name): cannot be read as UTF-8")
                }
                files[name] = text
            }
        }
        return try parse(files, origin: directory)
    }

    static func parseName(_ name: String) -> (kind: MailKind, language: String, html: Bool)? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let kind = MailKind(rawValue: String(parts[0])), ["txt", "html"].contains(parts[2]) else { return nil }
        let language = parts[1].lowercased()
        guard !language.isEmpty, language.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return nil }
        return (kind, language, parts[2] == "html")
    }

    static func parse(_ files: [String: String], origin: String?) throws(CLIFailure) -> MailTemplates {
        var texts: [MailKind: [String: (txt: String?, html: String?)]] = [:]
        for (name, content) in files {
            guard let parsed = parseName(name) else { continue }
            var pair = texts[parsed.kind, default: [:]][parsed.language] ?? (nil, nil)
            if parsed.html { pair.html = content } else { pair.txt = content }
            texts[parsed.kind, default: [:]][parsed.language] = pair
        }
        var templates: [MailKind: [String: Set3]] = [:]
        for kind in MailKind.allCases {
            for (language, pair) in texts[kind] ?? [:] {
                let base = "\(kind.rawValue).\(language)"
                let where_ = origin.map { "\($0)/" } ?? ""
                guard let txt = pair.txt else { throw invalid("\(where_)\(base).html has no \(base).txt beside it (the subject and plain text)") }
                guard let html = pair.html else { throw invalid("\(where_)\(base).txt has no \(base).html beside it") }
                let file = where_ + base + ".txt"
                let normalized = txt.replacingOccurrences(of: "\r\n", with: "\n")
                guard normalized.hasPrefix("Subject:") else {
                    throw invalid("\(file): the first line must be \"Subject: ...\", then a blank line, then the body")
                }
                let lines = normalized.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
                let subject = lines[0].dropFirst("Subject:".count).trimmingCharacters(in: .whitespaces)
                var body = lines.count > 1 ? String(lines[1]) : ""
                if body.hasPrefix("\n") { body.removeFirst() }
                templates[kind, default: [:]][language] = Set3(
                    subject: try MailTemplate(subject, known: kind.fields, file: file),
                    text: try MailTemplate(body, known: kind.fields, file: file),
                    html: try MailTemplate(html, known: kind.fields, file: where_ + base + ".html"))
            }
            guard templates[kind]?[defaultLanguage] != nil else {
                throw invalid("no \(kind.rawValue).\(defaultLanguage).txt: every kind needs an English template to fall back on")
            }
        }
        return MailTemplates(byKind: templates)
    }

    /// The templates for `kind` in the recipient's language: the full tag,
    /// then its language part, then English.
    func templates(for kind: MailKind, language: String) -> (language: String, templates: Set3) {
        let byLanguage = byKind[kind] ?? [:]
        let tag = language.lowercased().replacingOccurrences(of: "_", with: "-")
        let primary = String(tag.split(separator: "-").first ?? "")
        for candidate in [tag, primary] where !candidate.isEmpty {
            if let found = byLanguage[candidate] { return (candidate, found) }
        }
        return (Self.defaultLanguage, byLanguage[Self.defaultLanguage]!)
    }
}

/// Exit statuses of `outbox deliver` beyond the CLI's usual ones.
enum MailExit {
    /// A configuration error found at start (templates, sendmail, addresses): sysexits' EX_CONFIG.
    static let config: Int32 = 78
}
