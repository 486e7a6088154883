import CoreMetrics
import Foundation
import MarketplaceDomain

/// The email senders' work, as the daemon sees it through the Outbox service
/// (every sender, however many run, reports here; exported only with
/// `--metrics-listen`):
///
/// | metric | type | meaning |
/// | --- | --- | --- |
/// | `marketplace_outbox_messages_delivered_total` | counter | messages marked sent (the agent accepted them) |
/// | `marketplace_outbox_messages_retried_total` | counter | temporary failures reported: the message waits for another attempt |
/// | `marketplace_outbox_messages_failed_total` | counter | permanent failures reported: the message is `FAILED` |
/// | `marketplace_outbox_oldest_pending_age_seconds` | gauge (read at scrape) | age of the oldest pending message, 0 when none |
public enum OutboxMetrics {
    static let delivered = Counter(label: "marketplace_outbox_messages_delivered_total")
    static let retried = Counter(label: "marketplace_outbox_messages_retried_total")
    static let failed = Counter(label: "marketplace_outbox_messages_failed_total")
    private static let oldestPendingAge = CoreMetrics.Gauge(label: "marketplace_outbox_oldest_pending_age_seconds")

    /// Sets `marketplace_outbox_oldest_pending_age_seconds` from the store
    /// (called before each scrape): one read of the oldest pending message.
    /// A failed read leaves the last value (the storage error is counted).
    public static func recordQueueAge(of directory: UserDirectory, now: Date = Date()) async {
        guard let page = try? await directory.pendingOutboxPage(limit: 1) else { return }
        let age = page.items.first.map { max(0, now.timeIntervalSince($0.createdAt)) } ?? 0
        oldestPendingAge.record(age)
    }
}
