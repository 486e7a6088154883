import ArgumentParser
import Foundation
import MarketplaceClient

struct OutboxDeliverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: "Send pending emails through the system's mail transfer agent.",
        discussion: """
            Claims pending messages under a lease (several senders at once never
            send one message twice), renders each from its templates in the
            recipient's language, hands it to `sendmail -t -oi`, and marks it sent
            once the agent accepted it (exit 0). Delivery is at least once: a crash
            between hand-off and marking can send a message again, with the same
            Message-ID. Exit 65, 67 or 68 from the agent (rejected address) is a
            permanent failure, recorded on the message (see `outbox list`); any
            other failure is retried with exponential backoff and jitter, at most
            --max-attempts times. Runs as an operator (its Unix user); a saved
            sign-in session is ignored. Without --follow it delivers what is
            deliverable now and exits; with --follow it keeps polling, and stops
            cleanly on SIGTERM or SIGINT. Templates are checked at start: a broken
            one exits 78 naming the file and field. docs/mail.md has the details.
            JSON (without --follow): {"delivered": N, "failed": N, "deferred": N, "released": N}.
            Examples:
              marketplace-users outbox deliver --from 'Acme <noreply@acme.example>'
              marketplace-users outbox deliver --follow --from noreply@acme.example \\
                  --reply-to support@acme.example --templates /etc/marketplace-users/mail
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Keep running: poll for new messages (at most --poll-interval apart) until SIGTERM.")
    var follow = false

    @Option(help: ArgumentHelp("The sender: an address, or 'Name <address>'.", valueName: "mailbox"))
    var from: String

    @Option(name: .customLong("reply-to"), help: ArgumentHelp("Where replies go: an address, or 'Name <address>'.", valueName: "mailbox"))
    var replyTo: String?

    @Option(help: ArgumentHelp("The sendmail interface of the mail transfer agent.", valueName: "path"))
    var sendmail = "/usr/sbin/sendmail"

    @Option(name: .customLong("sendmail-arg"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("One more argument for sendmail, after -t -oi (repeatable; e.g. --sendmail-arg=-C --sendmail-arg=/etc/msmtprc).", valueName: "arg"))
    var sendmailArguments: [String] = []

    @Option(name: .customLong("sendmail-timeout"), help: ArgumentHelp("Seconds the agent may take for one message (then: a temporary failure).", valueName: "seconds"))
    var sendmailTimeout = 120

    @Option(help: ArgumentHelp("A directory of templates replacing or adding to the built-in ones (see `outbox templates`).", valueName: "dir"))
    var templates: String?

    @Option(name: .customLong("platform-name"), help: ArgumentHelp("The name the messages give the platform.", valueName: "text"))
    var platformName = "Marketplace Platform"

    @Option(name: .customLong("message-id-domain"), help: ArgumentHelp("The domain of Message-IDs (default: the --from address's domain).", valueName: "domain"))
    var messageIDDomain: String?

    @Option(name: .customLong("time-zone"), help: ArgumentHelp("The time zone expiry times are shown in.", valueName: "zone"))
    var timeZone = "UTC"

    @Option(name: .customLong("batch-size"), help: ArgumentHelp("Messages claimed at a time, 1 to 500.", valueName: "n"))
    var batchSize = 20

    @Option(help: ArgumentHelp("Seconds a claim holds its batch for this sender, 10 to 3600.", valueName: "seconds"))
    var lease = 300

    @Option(name: .customLong("max-attempts"), help: ArgumentHelp("After this many attempts, a temporary failure becomes permanent.", valueName: "n"))
    var maxAttempts = 10

    @Option(name: .customLong("retry-base"), help: ArgumentHelp("Seconds before the first retry; doubled each attempt, with jitter.", valueName: "seconds"))
    var retryBase = 30.0

    @Option(name: .customLong("retry-max"), help: ArgumentHelp("The longest delay between retries, in seconds (at most 86400).", valueName: "seconds"))
    var retryMax = 3600.0

    @Option(name: .customLong("poll-interval"), help: ArgumentHelp("With --follow: the longest wait between polls, 0.1 to 300 seconds.", valueName: "seconds"))
    var pollInterval = 10.0

    func validate() throws {
        guard (1...500).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 500") }
        guard (1...3600).contains(lease) else { throw ValidationError("--lease must be between 1 and 3600 seconds") }
        guard (1...1000).contains(maxAttempts) else { throw ValidationError("--max-attempts must be between 1 and 1000") }
        guard retryBase >= 1, retryMax >= retryBase, retryMax <= 86_400 else {
            throw ValidationError("--retry-base must be at least 1 and --retry-max between it and 86400 seconds")
        }
        guard (0.1...300).contains(pollInterval) else { throw ValidationError("--poll-interval must be between 0.1 and 300 seconds") }
        guard (1...3600).contains(sendmailTimeout) else { throw ValidationError("--sendmail-timeout must be between 1 and 3600 seconds") }
        guard MailComposer.Mailbox(parsing: from) != nil else { throw ValidationError("--from: \"\(from)\" is not an address or 'Name <address>'") }
        if let replyTo, MailComposer.Mailbox(parsing: replyTo) == nil {
            throw ValidationError("--reply-to: \"\(replyTo)\" is not an address or 'Name <address>'")
        }
        guard TimeZone(identifier: timeZone) != nil else { throw ValidationError("--time-zone: unknown zone \"\(timeZone)\"") }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let stop = StopSignal()
        stop.install()
        try await CLIErrors.reporting(socket: connection.socket) {
            // Everything is checked before the first claim.
            let templates = try MailTemplates.load(overrides: templates)
            let agent = Sendmail(path: sendmail, extraArguments: sendmailArguments, timeout: .seconds(sendmailTimeout))
            try agent.check()
            let sender = MailComposer.Mailbox(parsing: from)!
            let composer = MailComposer(
                templates: templates, from: sender, replyTo: replyTo.flatMap(MailComposer.Mailbox.init(parsing:)),
                platformName: platformName,
                messageIDDomain: messageIDDomain ?? String(sender.address.split(separator: "@").last ?? "localhost"),
                timeZone: TimeZone(identifier: timeZone)!)
            let settings = MailDelivery.Settings(
                batchSize: Int32(batchSize), lease: Int32(lease), maxAttempts: maxAttempts,
                retryBase: retryBase, retryMax: retryMax, pollInterval: pollInterval)
            // An operator by Unix user: never a signed-in person's session.
            let options = CallOptions(timeout: .milliseconds(Int64(connection.timeout * 1000)))
            try await MarketplaceClient.withClient(socketPath: connection.socket, defaultOptions: options) { client in
                let delivery = MailDelivery(
                    client: client, composer: composer, sendmail: agent, settings: settings, stop: stop,
                    log: { Output.note("outbox deliver: \($0)") })
                if follow {
                    Output.note("outbox deliver: following the outbox of \(connection.socket) (SIGTERM stops)")
                    let tally = await delivery.follow()
                    Output.note("outbox deliver: stopped; delivered \(tally.delivered), failed \(tally.failed), deferred \(tally.deferred), released \(tally.released)")
                } else {
                    let tally = try await delivery.drain()
                    if connection.json {
                        try Output.printJSON(tally)
                    } else {
                        print("Delivered \(tally.delivered), failed permanently \(tally.failed), to retry later \(tally.deferred + tally.released).")
                    }
                }
            }
        }
    }
}
