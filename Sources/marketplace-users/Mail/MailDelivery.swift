import Foundation
import MarketplaceClient
import Synchronization

/// Set when SIGTERM or SIGINT arrives: the sender finishes the message it is
/// handing over, releases the rest of its batch, and exits.
///
/// `@unchecked`: `sources` is written only by `install()`, called once before
/// any task shares the signal; `stopped` is atomic.
final class StopSignal: @unchecked Sendable {
    private let stopped = Atomic<Bool>(false)
    private var sources: [any DispatchSourceSignal] = []

    var isSet: Bool { stopped.load(ordering: .acquiring) }

    func set() { stopped.store(true, ordering: .releasing) }

    /// Routes SIGTERM and SIGINT here instead of ending the process.
    func install() {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.set() }
            source.resume()
            sources.append(source)
        }
    }

    /// Sleeps up to `duration`, waking early when stopped.
    func sleep(_ duration: Duration) async {
        let end = ContinuousClock.now + duration
        while !isSet, ContinuousClock.now < end {
            try? await Task.sleep(for: min(.milliseconds(100), end - ContinuousClock.now))
        }
    }
}

/// The delivery loop of `outbox deliver`: claim a batch under a lease, hand
/// each message to the agent, then mark it sent (accepted), or report the
/// failure (permanent: recorded, never retried; temporary: retried after an
/// exponential backoff with jitter, up to a number of attempts).
struct MailDelivery: Sendable {
    struct Settings: Sendable {
        var batchSize: Int32
        var lease: Int32
        var maxAttempts: Int
        var retryBase: Double
        var retryMax: Double
        var pollInterval: Double
    }

    struct Tally: Sendable, Encodable {
        var delivered = 0
        var failed = 0
        var deferred = 0
        var released = 0
    }

    let client: MarketplaceClient
    let composer: MailComposer
    let sendmail: Sendmail
    let settings: Settings
    let stop: StopSignal
    let log: @Sendable (String) -> Void

    /// The delay before the next try after `attempts` claims: base × 2^(n-1),
    /// capped, then scaled by a random factor in [0.5, 1] (jitter), in whole
    /// seconds, at least 1.
    static func backoff(attempts: Int, base: Double, max maximum: Double) -> Int32 {
        let exponent = Double(Swift.max(0, Swift.min(attempts - 1, 30)))
        let capped = Swift.min(maximum, base * pow(2, exponent))
        return Int32(Swift.max(1, (capped * Double.random(in: 0.5...1)).rounded(.up)))
    }

    /// Delivers one claimed batch after another until none is deliverable (or
    /// the sender is stopped).
    func drain() async throws -> Tally {
        var tally = Tally()
        while !stop.isSet {
            let claim = try await client.outbox.claimMessages(.init(limit: settings.batchSize, leaseSeconds: settings.lease))
            if claim.messages.isEmpty { break }
            try await deliver(claim, into: &tally)
        }
        return tally
    }

    /// Runs until stopped: drains, then waits at most the poll interval.
    /// Errors reaching the service are logged and retried after the interval.
    func follow() async -> Tally {
        var tally = Tally()
        var failures = 0
        while !stop.isSet {
            do {
                let round = try await drain()
                tally.delivered += round.delivered
                tally.failed += round.failed
                tally.deferred += round.deferred
                tally.released += round.released
                failures = 0
            } catch {
                failures += 1
                log("cannot reach the service (\(error)); trying again")
            }
            let wait = failures == 0 ? settings.pollInterval : Swift.min(settings.pollInterval, Double(failures))
            await stop.sleep(.milliseconds(Int64(wait * 1000)))
        }
        return tally
    }

    private func deliver(_ claim: ClaimMessagesResponse, into tally: inout Tally) async throws {
        for (index, message) in claim.messages.enumerated() {
            if stop.isSet {
                for rest in claim.messages[index...] {
                    try await report(rest, claim: claim.claimId, permanent: false, reason: "the sender stopped before handing it over", retryAfter: 0)
                    tally.released += 1
                }
                return
            }
            let label = "message \(message.id) (\(MailComposer.kind(of: message)?.rawValue ?? "?")) to \(message.recipientEmail)"
            if message.attempts > settings.maxAttempts {
                let last = message.failureReason.isEmpty ? "" : "; last failure: \(message.failureReason)"
                try await report(message, claim: claim.claimId, permanent: true, reason: "gave up after \(message.attempts - 1) attempts\(last)")
                log("\(label): failed permanently: gave up after \(message.attempts - 1) attempts")
                tally.failed += 1
                continue
            }
            let text: String
            do throws(MailComposer.Failure) { text = try composer.compose(message) } catch {
                let why = switch error { case .unrenderable(let why): why }
                try await report(message, claim: claim.claimId, permanent: true, reason: "cannot be rendered: \(why)")
                log("\(label): failed permanently: cannot be rendered: \(why)")
                tally.failed += 1
                continue
            }
            switch await sendmail.send(text) {
            case .accepted:
                // Marked one by one: a crash loses at most this one acknowledgement
                // (the message is then sent again, with the same Message-ID).
                _ = try await client.outbox.markMessagesSent(.init(messageIds: [message.id]))
                log("\(label): sent as \(composer.messageID(of: message))")
                tally.delivered += 1
            case .permanent(let reason):
                try await report(message, claim: claim.claimId, permanent: true, reason: reason)
                log("\(label): failed permanently: \(reason)")
                tally.failed += 1
            case .temporary(let reason):
                let delay = Self.backoff(attempts: Int(message.attempts), base: settings.retryBase, max: settings.retryMax)
                try await report(message, claim: claim.claimId, permanent: false, reason: reason, retryAfter: delay)
                log("\(label): temporary failure, retrying in \(delay)s: \(reason)")
                tally.deferred += 1
            }
        }
    }

    private func report(_ message: OutboxMessage, claim: String, permanent: Bool, reason: String, retryAfter: Int32 = 0) async throws {
        do throws(RPCError) {
            _ = try await client.outbox.reportDeliveryFailure(.init(
                messageId: message.id, claimId: claim, permanent: permanent, reason: String(reason.prefix(1000)), retryAfterSeconds: retryAfter))
        } catch {
            // Another sender holds it now (our lease expired): theirs to finish.
            guard error.code == .failedPrecondition else { throw error }
            log("message \(message.id): \(error.message)")
        }
    }
}
