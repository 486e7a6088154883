import Foundation
import MarketplaceClient

/// Turns an outbox message into an RFC 5322 message for `sendmail -t`:
/// headers for transactional mail and a multipart/alternative body (plain
/// text, then HTML), both UTF-8 and quoted-printable. Lines end with LF, as
/// the sendmail interface expects.
struct MailComposer: Sendable {
    /// A mailbox: an address and an optional display name.
    struct Mailbox: Sendable, Equatable {
        var name: String
        var address: String

        /// Parses `Name <address>` or a bare `address`.
        init?(parsing raw: String) {
            let text = raw.trimmingCharacters(in: .whitespaces)
            if let open = text.lastIndex(of: "<"), text.hasSuffix(">") {
                name = text[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                address = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
            } else {
                name = ""
                address = text
            }
            guard Self.isAddress(address) else { return nil }
        }

        init(name: String, address: String) {
            self.name = name
            self.address = address
        }

        static func isAddress(_ text: String) -> Bool {
            let parts = text.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
            return text.unicodeScalars.allSatisfy { $0.value > 32 && $0.value < 127 && !"<>()[],;:\\\"".unicodeScalars.contains($0) }
        }
    }

    let templates: MailTemplates
    let from: Mailbox
    let replyTo: Mailbox?
    let platformName: String
    /// The right-hand side of every Message-ID.
    let messageIDDomain: String
    /// The zone expiry times are shown in.
    let timeZone: TimeZone

    /// The stable Message-ID of an outbox message: the same for every attempt,
    /// so a duplicate delivery is recognisable.
    func messageID(of message: OutboxMessage) -> String {
        "<marketplace-outbox-\(message.id)@\(messageIDDomain)>"
    }

    /// The message's kind as template files name it.
    static func kind(of message: OutboxMessage) -> MailKind? {
        switch message.kind {
        case .invitation: .invitation
        case .invitationResent: .resend
        case .newInvitation: .newInvitation
        case .removal: .removal
        default: nil
        }
    }

    /// The values of the template fields.
    func fields(of message: OutboxMessage) -> [String: String] {
        let first = message.recipientFirstName, last = message.recipientLastName
        var values = [
            "platform_name": platformName,
            "account_name": message.accountName,
            "recipient_first_name": first,
            "recipient_last_name": last,
            "recipient_name": [first, last].filter { !$0.isEmpty }.joined(separator: " "),
            "recipient_email": message.recipientEmail,
            "inviter_name": message.inviterName,
            "invitation_link": message.invitationLink,
            "expires_at": "",
        ]
        if let expiry = message.invitationExpiresAt {
            values["expires_at"] = Self.format(expiry, locale: message.recipientLocale, language: message.recipientLanguage, timeZone: timeZone)
        }
        return values
    }

    /// A date and time the way the recipient's locale writes them, with the zone.
    static func format(_ date: Date, locale: String, language: String, timeZone: TimeZone) -> String {
        let formatter = DateFormatter()
        let identifier = (locale.isEmpty ? language : locale).replacingOccurrences(of: "-", with: "_")
        formatter.locale = Locale(identifier: identifier.isEmpty ? "en_US" : identifier)
        formatter.timeZone = timeZone
        formatter.setLocalizedDateFormatFromTemplate("yMMMMdjjmmz")
        return formatter.string(from: date)
    }

    enum Failure: Error { case unrenderable(String) }

    /// The whole message, ready for `sendmail -t -oi`.
    func compose(_ message: OutboxMessage, date: Date = Date()) throws(Failure) -> String {
        guard let kind = Self.kind(of: message) else { throw .unrenderable("unknown message kind \(message.kind)") }
        guard Mailbox.isAddress(message.recipientEmail) else { throw .unrenderable("not a deliverable address: \(message.recipientEmail)") }
        if kind != .removal && message.invitationLink.isEmpty {
            throw .unrenderable("the message carries no invitation link")
        }
        if message.accountName.isEmpty { throw .unrenderable("the message carries no account name (is the server older than the sender?)") }
        let (language, set) = templates.templates(for: kind, language: message.recipientLanguage)
        let values = fields(of: message)
        let subject = Self.singleLine(set.subject.render(values))
        let text = set.text.render(values)
        let html = Self.htmlDocument(set.html.render(values, escape: Self.escapeHTML), language: language, title: subject)
        let recipient = Mailbox(name: values["recipient_name"] ?? "", address: message.recipientEmail)
        let boundary = "=_marketplace_\(message.id)_\(UInt64.random(in: 0...UInt64.max))"

        var headers: [String] = [
            "From: " + Self.header(from),
            "To: " + Self.header(recipient),
        ]
        if let replyTo { headers.append("Reply-To: " + Self.header(replyTo)) }
        headers += [
            "Subject: " + Self.encodedText(subject, prefix: "Subject: ".count),
            "Date: " + Self.rfc5322Date(date),
            "Message-ID: " + messageID(of: message),
            "MIME-Version: 1.0",
            "Content-Language: " + language,
            "Auto-Submitted: auto-generated",
            "X-Auto-Response-Suppress: All",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
        ]
        var lines = headers
        lines += ["", "This is a message in MIME format: plain text and HTML.", ""]
        for (type, content) in [("text/plain", text), ("text/html", html)] {
            lines += [
                "--" + boundary,
                "Content-Type: \(type); charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable",
                "",
                Self.quotedPrintable(content),
            ]
        }
        lines += ["--" + boundary + "--", ""]
        return lines.joined(separator: "\n")
    }

    // MARK: Encodings

    /// Control characters (CR, LF, ...) become spaces: a header value is one line.
    static func singleLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
            .trimmingCharacters(in: .whitespaces)
    }

    /// A mailbox header value: the display name as an atom phrase, a quoted
    /// string, or RFC 2047 encoded words when it is not ASCII.
    static func header(_ mailbox: Mailbox) -> String {
        let name = singleLine(mailbox.name)
        guard !name.isEmpty else { return mailbox.address }
        let atext = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ")
        let phrase: String
        if name.unicodeScalars.allSatisfy({ atext.contains($0) }) {
            phrase = name
        } else if name.unicodeScalars.allSatisfy({ $0.isASCII }) {
            phrase = "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        } else {
            phrase = encodedWords(name)
        }
        return "\(phrase) <\(mailbox.address)>"
    }

    /// Unstructured header text: as is when printable ASCII, else RFC 2047
    /// encoded words (UTF-8, base64), folded so no line exceeds 76 characters.
    static func encodedText(_ text: String, prefix: Int) -> String {
        if text.unicodeScalars.allSatisfy({ $0.value >= 32 && $0.value < 127 }) && !text.contains("=?") { return text }
        return encodedWords(text)
    }

    /// RFC 2047 `=?UTF-8?B?...?=` words of at most 45 bytes of UTF-8 each
    /// (never splitting a character), separated by folding whitespace.
    static func encodedWords(_ text: String) -> String {
        var words: [String] = []
        var chunk = [UInt8]()
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append(chunk.isEmpty ? "" : "=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.filter { !$0.isEmpty }.joined(separator: "\n ")
    }

    /// Quoted-printable (RFC 2045) of UTF-8 text with LF line ends, lines at
    /// most 76 characters (soft breaks `=`), trailing spaces encoded.
    static func quotedPrintable(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [String] = []
        for line in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            var current = ""
            for (index, byte) in bytes.enumerated() {
                let last = index == bytes.count - 1
                let token: String
                if (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !last) {
                    token = String(UnicodeScalar(byte))
                } else {
                    token = "=" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
                }
                if current.utf8.count + token.utf8.count > 75 {
                    out.append(current + "=")
                    current = ""
                }
                current += token
            }
            // A line starting with "." or "From " is left to sendmail -oi and the MTA.
            out.append(current)
        }
        return out.joined(separator: "\n")
    }

    static func escapeHTML(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    /// The HTML part as a whole document (templates hold only the body).
    static func htmlDocument(_ body: String, language: String, title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(escapeHTML(language))">
        <head><meta charset="utf-8"><title>\(escapeHTML(title))</title></head>
        <body>
        \(body)
        </body>
        </html>
        """
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
