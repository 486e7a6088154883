import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// The mail sender's metrics on the daemon's metrics endpoint: the real
/// daemon (`--metrics-listen`), the real `outbox deliver` through msmtp to the
/// SMTP sink, scraped with curl (docs/mail.md, docs/operations.md).
@Suite("Mail delivery metrics on the daemon's metrics endpoint", .serialized)
struct MailMetricsTests {
    @Test("delivered, retried, failed and the oldest pending message's age move as the sender works")
    func senderMetrics() async throws {
        let directory = try TemporaryDirectory(prefix: "mailm")
        defer { directory.remove() }
        let socket = directory.appending("s.sock"), metrics = directory.appending("metrics.sock")
        let daemon = try BackgroundProcess(
            builtProductsDirectory + "/marketplace-usersd",
            ["--socket", socket, "--data-dir", directory.appending("data"), "--metrics-listen", metrics,
             "--argon2-opslimit", "1", "--argon2-memlimit-kib", "8"],
            logIn: directory.path)
        defer { daemon.signal(SIGKILL) }
        let served = await untilServing(socketPath: socket, seconds: 30, while: { daemon.process.isRunning })
        try #require(served?.status == .serving, "the daemon did not serve: \(daemon.log)")
        let sink = try await SMTPSink(in: directory, rejecting: ["nobody@example.com"])
        let client = MarketplaceClient(socketPath: socket)
        let cli = CLI(socket: socket)
        let sender = MailSender(cli: cli, msmtprc: try sink.msmtpConfiguration(at: directory.appending("msmtprc")))
        func scrape() async throws -> String {
            let scraped = try await curl("http://localhost/metrics", unixSocket: metrics)
            try #require(scraped.status == 0, "\(scraped.body)")
            return scraped.body
        }
        func value(_ text: String, _ name: String) -> Double { sample(text, name) ?? 0 }

        let empty = try await scrape()
        #expect(sample(empty, "marketplace_outbox_oldest_pending_age_seconds") == 0, "nothing pending yet: \(empty)")

        // Two invitations wait: the queue has an age.
        let acme = try await Fixture.make(client)
        _ = try await acme.invite(client, "ada@example.com")
        _ = try await acme.invite(client, "nobody@example.com")
        try await eventually("the oldest pending message ages") {
            value(try await scrape(), "marketplace_outbox_oldest_pending_age_seconds") > 0
        }

        // One pass: Ada's is delivered, nobody's is rejected (permanent).
        let first = try await sender.once()
        #expect(first.int("delivered") == 1 && first.int("failed") == 1, "\(first)")
        var text = try await scrape()
        #expect(value(text, "marketplace_outbox_messages_delivered_total") == 1, "\(text)")
        #expect(value(text, "marketplace_outbox_messages_failed_total") == 1, "\(text)")
        #expect(value(text, "marketplace_outbox_messages_retried_total") == 0, "\(text)")
        #expect(sample(text, "marketplace_outbox_oldest_pending_age_seconds") == 0, "a failed message is not pending: \(text)")

        // The SMTP server down: a temporary failure, retried later; the message waits and ages.
        await sink.stop()
        _ = try await acme.invite(client, "bob@example.com")
        let second = try await sender.once()
        #expect(second.int("deferred") == 1, "\(second)")
        text = try await scrape()
        #expect(value(text, "marketplace_outbox_messages_retried_total") == 1, "\(text)")
        #expect(value(text, "marketplace_outbox_messages_delivered_total") == 1, "\(text)")
        #expect(value(text, "marketplace_outbox_oldest_pending_age_seconds") > 0, "\(text)")

        // Back up: delivered on a later pass (after the retry delay); the queue is empty again.
        try await sink.start()
        try await eventually("the deferred message is delivered") {
            _ = try await sender.once()
            return value(try await scrape(), "marketplace_outbox_messages_delivered_total") == 2
        }
        text = try await scrape()
        #expect(sample(text, "marketplace_outbox_oldest_pending_age_seconds") == 0, "\(text)")
        #expect(value(text, "marketplace_outbox_messages_failed_total") == 1, "\(text)")
        #expect(try sink.messages().count == 2)

        await client.close()
        await sink.stop()
        daemon.signal(SIGTERM)
        #expect(await daemon.wait() == 0, "\(daemon.log)")
    }
}
