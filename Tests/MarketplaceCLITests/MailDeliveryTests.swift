import Foundation
import MarketplaceClient
import class MarketplaceDomain.ManualWallClock
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// The mail sender (`outbox deliver`) end to end: the real server, the real
/// CLI as a subprocess, Debian's msmtp as the sendmail interface, and an SMTP
/// server on loopback that stores what it receives (docs/mail.md).
@Suite("Mail delivery: outbox deliver through msmtp to an SMTP server", .serialized)
struct MailDeliveryTests {
    /// The server, a sink, and a sender wired to both.
    struct Setup {
        let server: UsersServer
        let client: MarketplaceClient
        let directory: TemporaryDirectory
        let sink: SMTPSink
        let sender: MailSender
        var cli: CLI { sender.cli }

        func received() throws -> [ReceivedMail] { try sink.messages().map(ReceivedMail.init) }
        func pending(includeFailed: Bool = false) async throws -> [OutboxMessage] {
            try await client.outbox.listPendingMessages(.init(limit: 500, includeFailed: includeFailed)).messages
        }
    }

    func withMail(
        rejecting rejected: [String] = [], clock: ManualWallClock? = nil, _ body: (Setup) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory(prefix: "mail")
        defer { directory.remove() }
        let sink = try await SMTPSink(in: directory, rejecting: rejected)
        do {
            try await withUsersServer(configure: { if let clock { $0.clock = clock } }) { server, client in
                let cli = CLI(server)
                let sender = MailSender(cli: cli, msmtprc: try sink.msmtpConfiguration(at: directory.appending("msmtprc")))
                try await body(Setup(server: server, client: client, directory: directory, sink: sink, sender: sender))
            }
        } catch {
            await sink.stop()
            throw error
        }
        await sink.stop()
    }

    @Test("an invitation arrives, well formed, with a link that accepts the invitation")
    func invitationArrives() async throws {
        try await withMail { setup in
            let acme = try await Fixture.make(setup.client, name: "Acme Ltd")
            let invited = try await acme.invite(setup.client, "ana@example.com")
            let message = try #require(try await setup.pending().first)

            let tally = try await setup.sender.once()
            #expect(tally.int("delivered") == 1 && tally.int("failed") == 0 && tally.int("deferred") == 0, "\(tally)")
            #expect(try await setup.pending().isEmpty, "marked sent once the agent accepted it")

            let mail = try #require(try setup.received().first)
            #expect(try setup.received().count == 1)
            #expect(mail.to == ["ana@example.com"])
            #expect(mail.messageID == "<marketplace-outbox-\(message.id)@marketplace.example>")
            #expect(mail.headers["from"] == "Marketplace <noreply@marketplace.example>")
            #expect(mail.headers["reply-to"] == "support@marketplace.example")
            #expect(mail.headers["to"] == "Test Person <ana@example.com>")
            #expect(mail.headers["date"]?.isEmpty == false)
            #expect(mail.headers["mime-version"] == "1.0")
            #expect(mail.headers["auto-submitted"] == "auto-generated")
            #expect(mail.json["content_type"] as? String == "multipart/alternative")
            #expect(mail.charset("text/plain") == "utf-8" && mail.charset("text/html") == "utf-8")
            #expect(mail.subject.hasSuffix(" invited you to join Acme Ltd on Marketplace Platform"), "\(mail.subject)")
            #expect(mail.subject.hasPrefix(message.inviterName) && !message.inviterName.isEmpty, "\(mail.subject)")
            #expect(mail.text.contains("Hello Test,"), "\(mail.text)")
            #expect(mail.link == invited.link, "\(mail.text)")
            #expect(mail.html.contains("href=\"\(invited.link)\""), "\(mail.html)")
            #expect(mail.text.contains("The link works until"), "\(mail.text)")

            // The link in the email works.
            let accepted = try await setup.client.invitations.acceptInvitation(.init(
                token: token(of: try #require(mail.link)), firstName: "Ana", lastName: "Lima", password: goodPassword, acceptTerms: true))
            #expect(accepted.accountUser?.status == .active)

            // Nothing left: a second pass sends nothing.
            #expect(try await setup.sender.once().int("delivered") == 0)
            #expect(try setup.received().count == 1)
        }
    }

    @Test("in the recipient's language, with encoded non-ASCII subject and names, expiry in their locale")
    func germanRecipient() async throws {
        try await withMail { setup in
            let first = try await Fixture.make(setup.client, name: "First")
            let invited = try await first.invite(setup.client, "juergen@example.com")
            _ = try await setup.client.invitations.acceptInvitation(.init(
                token: token(of: invited.link), firstName: "Jürgen", lastName: "Groß", password: goodPassword, acceptTerms: true))
            let session = try await setup.client.sessions.signIn(.init(email: "juergen@example.com", password: goodPassword))
            _ = try await setup.client.profile.updateProfile(
                .init(language: "de", locale: "de-DE", fields: ["language", "locale"]), options: .bearer(session.token))
            _ = try await setup.client.outbox.markMessagesSent(.init(messageIds: try await setup.pending().map(\.id)))

            let müller = try await Fixture.make(setup.client, name: "Müller & Söhne")
            let second = try await müller.invite(setup.client, "juergen@example.com")
            let queued = try #require(try await setup.pending().first)
            #expect(queued.recipientLanguage == "de" && queued.accountName == "Müller & Söhne" && queued.invitationLink == second.link)
            #expect(try await setup.sender.once().int("delivered") == 1)

            let mail = try #require(try setup.received().first)
            #expect(mail.rawHeaders["subject"]?.hasPrefix("=?UTF-8?B?") == true, "\(mail.rawHeaders)")
            #expect(mail.subject == "\(queued.inviterName) hat Sie zu Müller & Söhne auf Marketplace Platform eingeladen", "\(mail.subject)")
            #expect(mail.rawHeaders["to"]?.contains("=?UTF-8?B?") == true, "\(mail.rawHeaders)")
            #expect(mail.headers["to"] == "Jürgen Groß <juergen@example.com>", "\(mail.headers)")
            #expect(mail.headers["content-language"] == "de")
            #expect(mail.text.contains("Hallo Jürgen,"), "\(mail.text)")
            #expect(mail.html.contains("Müller &amp; Söhne"), "values are HTML-escaped: \(mail.html)")
            // The expiry as German writes it, e.g. "8. Dezember 2026 um 21:30 UTC".
            let expiry = MailDeliveryTests.germanMonths.first { mail.text.contains("gültig bis ") && mail.text.contains($0) }
            #expect(expiry != nil, "\(mail.text)")
            #expect(mail.link == second.link)
        }
    }

    static let germanMonths = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]

    @Test("a reminder (resend) and a new invitation arrive; the new link accepts")
    func resendAndNewInvitation() async throws {
        let clock = ManualWallClock(start: Date())
        try await withMail(clock: clock) { setup in
            let acme = try await Fixture.make(setup.client, name: "Acme Ltd")
            let invited = try await acme.invite(setup.client, "rita@example.com")
            _ = try await setup.sender.once()
            _ = try await setup.client.accountUsers.resendInvitation(.init(accountUserId: invited.id))
            #expect(try await setup.sender.once().int("delivered") == 1)
            let reminder = try #require(try setup.received().last)
            #expect(reminder.subject == "Reminder: join Acme Ltd on Marketplace Platform", "\(reminder.subject)")
            #expect(reminder.link == invited.link)

            clock.advance(by: .seconds(8 * 86_400))
            let renewed = try await setup.client.accountUsers.renewInvitation(.init(accountUserId: invited.id))
            #expect(try await setup.sender.once().int("delivered") == 1)
            let fresh = try #require(try setup.received().last)
            #expect(try setup.received().count == 3)
            #expect(fresh.subject == "New invitation to join Acme Ltd on Marketplace Platform", "\(fresh.subject)")
            #expect(fresh.text.contains("Earlier links no longer work"))
            #expect(fresh.link == renewed.invitationLink && fresh.link != invited.link)
            let accepted = try await setup.client.invitations.acceptInvitation(.init(
                token: token(of: try #require(fresh.link)), firstName: "Rita", lastName: "Ray", password: goodPassword, acceptTerms: true))
            #expect(accepted.accountUser?.status == .active)
        }
    }

    @Test("a removal arrives, without a link")
    func removalArrives() async throws {
        try await withMail { setup in
            let acme = try await Fixture.make(setup.client, name: "Acme Ltd")
            let invited = try await acme.invite(setup.client, "rob@example.com")
            _ = try await setup.client.invitations.acceptInvitation(.init(
                token: token(of: invited.link), firstName: "Rob", lastName: "Ray", password: goodPassword, acceptTerms: true))
            _ = try await setup.sender.once()
            _ = try await setup.client.accountUsers.removeAccountUser(.init(accountUserId: invited.id))
            #expect(try await setup.sender.once().int("delivered") == 1)
            let mail = try #require(try setup.received().last)
            #expect(mail.subject == "You were removed from Acme Ltd on Marketplace Platform", "\(mail.subject)")
            #expect(mail.text.contains("Hello Rob,") && mail.text.contains("no longer have access"), "\(mail.text)")
            #expect(mail.link == nil)
        }
    }

    /// The pending emails of an ended link are withdrawn in the same
    /// transaction (the Outbox service comment), so nothing is mailed.
    @Test("revoking before delivery sends nothing")
    func revokeBeforeDelivery() async throws {
        try await withMail { setup in
            let acme = try await Fixture.make(setup.client, name: "Acme Ltd")
            let invited = try await acme.invite(setup.client, "gone@example.com")
            _ = try await setup.client.accountUsers.revokeInvitation(.init(accountUserId: invited.id))
            _ = try await setup.sender.once()
            let received = try setup.received()
            // Withdrawn: neither pending nor failed.
            let left = try await setup.pending(includeFailed: true)
            #expect(received.isEmpty, "the revoked invitation was mailed")
            #expect(left.isEmpty, "\(left.map(\.state))")
        }
    }

    @Test("the SMTP server down: nothing is marked sent; delivered once it is back; SIGTERM stops the sender")
    func smtpServerDown() async throws {
        try await withMail { setup in
            await setup.sink.stop()
            let acme = try await Fixture.make(setup.client, name: "Acme Ltd")
            _ = try await acme.invite(setup.client, "dora@example.com")
            let follower = try setup.sender.follow(logIn: setup.directory.path)
            try await eventually("a temporary failure is recorded") {
                let message = try await setup.pending().first
                return message?.attempts ?? 0 >= 1 && message?.failureReason.contains("exited 75") == true
            }
            let waiting = try #require(try await setup.pending().first)
            #expect(waiting.state == .pending && waiting.sentAt == nil)
            let list = try await setup.cli(["outbox", "list"])
            #expect(list.stdout.contains("pending (") && list.stdout.contains("exited 75"), "\(list.stdout)")

            try await setup.sink.start()
            try await eventually("the message arrives once the server is back") { try setup.received().count == 1 }
            try await eventually("and it is marked sent") { try await setup.pending().isEmpty }
            let status = await follower.stop()
            #expect(status == 0, "graceful stop on SIGTERM: \(follower.log)")
            #expect(follower.log.contains("stopped; delivered 1"), "\(follower.log)")
            #expect(try setup.received().count == 1)
        }
    }

    @Test("the sender killed mid-batch: nothing is lost; only the in-flight message is sent twice, same Message-ID")
    func killedMidBatch() async throws {
        try await withMail { setup in
            let acme = try await Fixture.make(setup.client, name: "Acme Ltd")
            for name in ["k1", "k2", "k3"] { _ = try await acme.invite(setup.client, "\(name)@example.com") }
            let ids = try await setup.pending().map(\.id)
            // An agent that hands the 2nd message over, then hangs before answering.
            let marks = setup.directory.appending("marks")
            try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
            let wrapper = setup.directory.appending("hanging-sendmail")
            try """
                #!/bin/sh
                /usr/bin/msmtp "$@" || exit $?
                n=$(ls \(marks) | wc -l)
                touch \(marks)/sent-$$
                if [ "$n" -ge 1 ]; then echo $$ > \(marks)/hung.pid; exec sleep 600; fi
                """.write(toFile: wrapper, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper)
            var hanging = setup.sender
            hanging.sendmail = wrapper
            let first = try hanging.follow(["--lease", "2", "--batch-size", "3"], logIn: setup.directory.path)
            try await eventually("the agent hangs on the 2nd message") { FileManager.default.fileExists(atPath: marks + "/hung.pid") }
            first.signal(SIGKILL)
            _ = await first.wait()
            if let pid = Int32(try String(contentsOfFile: marks + "/hung.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGKILL)
            }
            #expect(try setup.received().count == 2)
            #expect(try await setup.pending().count == 2, "the 2nd and 3rd are still pending")

            // Another sender takes over once the lease has expired.
            let second = try setup.sender.follow(logIn: setup.directory.path)
            try await eventually("all messages are delivered") { try await setup.pending().isEmpty }
            await second.stop()
            let received = try setup.received()
            var count: [String: Int] = [:]
            for mail in received { count[mail.messageID, default: 0] += 1 }
            let expected = ids.map { "<marketplace-outbox-\($0)@marketplace.example>" }
            #expect(Set(count.keys) == Set(expected), "\(count)")
            #expect(count[expected[0]] == 1 && count[expected[1]] == 2 && count[expected[2]] == 1, "\(count)")
            #expect(received.count == 4)
        }
    }

    @Test("a rejected address: a recorded permanent failure, shown by outbox list, never retried")
    func rejectedAddress() async throws {
        try await withMail(rejecting: ["nobody@example.com"]) { setup in
            let acme = try await Fixture.make(setup.client, name: "Acme Ltd")
            _ = try await acme.invite(setup.client, "nobody@example.com")
            _ = try await acme.invite(setup.client, "somebody@example.com")
            let tally = try await setup.sender.once()
            #expect(tally.int("delivered") == 1 && tally.int("failed") == 1, "\(tally)")
            #expect(try setup.received().map(\.to) == [["somebody@example.com"]])

            #expect(try await setup.pending().isEmpty, "a failed message is not pending")
            let failed = try #require(try await setup.pending(includeFailed: true).first)
            #expect(failed.state == .failed && failed.recipientEmail == "nobody@example.com")
            #expect(failed.failureReason.contains("exit 65 (EX_DATAERR)") && failed.failureReason.contains("550"), "\(failed.failureReason)")
            #expect(failed.failedAt != nil)
            let list = try await setup.cli(["outbox", "list"])
            #expect(list.stdout.contains("failed: ") && list.stdout.contains("nobody@example.com"), "\(list.stdout)")
            #expect(!(try await setup.cli(["outbox", "list", "--pending-only"])).stdout.contains("nobody@example.com"))

            // Never retried.
            #expect(try await setup.sender.once().int("failed") == 0)
            #expect(try setup.received().count == 1)
            #expect(try await setup.pending(includeFailed: true).first?.attempts == 1)
        }
    }

    @Test("two senders at once deliver each message exactly once")
    func twoSenders() async throws {
        try await withMail { setup in
            let acme = try await Fixture.make(setup.client, name: "Acme Ltd")
            for index in 0..<24 { _ = try await acme.invite(setup.client, "p\(index)@example.com") }
            let ids = try await setup.pending().map(\.id)
            async let a = setup.sender.once(["--batch-size", "2"])
            async let b = setup.sender.once(["--batch-size", "2"])
            let (one, two) = try await (a, b)
            #expect((one.int("delivered") ?? 0) + (two.int("delivered") ?? 0) == 24, "\(one) \(two)")
            let received = try setup.received().map(\.messageID)
            #expect(received.count == 24)
            #expect(Set(received) == Set(ids.map { "<marketplace-outbox-\($0)@marketplace.example>" }))
            #expect(try await setup.pending().isEmpty)
        }
    }

    @Test("a template with an unknown field stops the sender at start, naming it; nothing is sent")
    func brokenTemplate() async throws {
        try await withMail { setup in
            let acme = try await Fixture.make(setup.client, name: "Acme Ltd")
            _ = try await acme.invite(setup.client, "tia@example.com")
            let templates = setup.directory.appending("templates")
            let export = try await runProcess(CLI.path, ["outbox", "templates", templates])
            #expect(export.status == 0, "\(export.stderr)")
            let path = templates + "/invitation.de.txt"
            let original = try String(contentsOfFile: path, encoding: .utf8)
            try original.replacingOccurrences(of: "{{inviter_name}} hat", with: "{{inviter_nmae}} hat").write(toFile: path, atomically: true, encoding: .utf8)
            let run = try await setup.cli(setup.sender.arguments + ["--templates", templates])
            #expect(run.status == 78, "\(run.stderr)")
            #expect(run.stderr.contains("invitation.de.txt") && run.stderr.contains("{{inviter_nmae}}"), "\(run.stderr)")

            // A removal cannot use the link; a file name that is no template is refused too.
            try original.write(toFile: path, atomically: true, encoding: .utf8)
            try "<p>{{invitation_link}}</p>".write(toFile: templates + "/removal.en.html", atomically: true, encoding: .utf8)
            let removal = try await setup.cli(setup.sender.arguments + ["--templates", templates])
            #expect(removal.status == 78 && removal.stderr.contains("removal.en.html: unknown field {{invitation_link}}"), "\(removal.stderr)")
            #expect(try setup.received().isEmpty)
            #expect(try await setup.pending().count == 1)

            // A replaced template is used.
            try "<p>{{account_name}}</p>".write(toFile: templates + "/removal.en.html", atomically: true, encoding: .utf8)
            try "Subject: Join {{account_name}} now\n\nGo: {{invitation_link}}\n".write(toFile: templates + "/invitation.en.txt", atomically: true, encoding: .utf8)
            #expect(try await setup.sender.once(["--templates", templates]).int("delivered") == 1)
            let mail = try #require(try setup.received().first)
            #expect(mail.subject == "Join Acme Ltd now" && mail.text.hasPrefix("Go: https://"), "\(mail.subject) \(mail.text)")
        }
    }
}
