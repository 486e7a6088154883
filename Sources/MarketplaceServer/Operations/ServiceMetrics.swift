import CoreMetrics
import Prometheus
import Synchronization

/// The daemon's metrics backend: swift-metrics bootstrapped with a
/// swift-prometheus registry, which `MetricsEndpoint` serves. Every metric of
/// the service is made through swift-metrics (the libraries stay backend-free);
/// without a bootstrap they cost next to nothing.
///
/// | metric | type | labels |
/// | --- | --- | --- |
/// | `marketplace_rpc_calls_total` | counter | `method`, `code` |
/// | `marketplace_rpc_call_duration_seconds` | histogram | `method` |
/// | `marketplace_rpc_calls_refused_total` | counter | `code` (refused before routing) |
/// | `marketplace_rpc_calls_in_flight` | gauge | |
/// | `marketplace_rpc_connections` | gauge (read at scrape) | |
/// | `marketplace_storage_group_commit_batch_size` | histogram | |
/// | `marketplace_storage_errors_total` | counter | `code` (SQLite result code) |
/// | `marketplace_password_hashing_queue_depth` | gauge | |
/// | `marketplace_outbox_messages_{delivered,retried,failed}_total`, `marketplace_outbox_oldest_pending_age_seconds` | see `OutboxMetrics` | |
public enum ServiceMetrics {
    private static let registryBox = Mutex<PrometheusCollectorRegistry?>(nil)

    /// The registry, once bootstrapped.
    static var registry: PrometheusCollectorRegistry? { registryBox.withLock { $0 } }

    /// Bootstraps swift-metrics with a Prometheus registry. Call once, first
    /// thing, before anything makes a metric (a metric made before is a no-op).
    public static func bootstrap() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets["marketplace_storage_group_commit_batch_size"] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        registryBox.withLock { $0 = registry }
    }

    private static let connections = Mutex<CoreMetrics.Gauge?>(nil)

    /// Sets `marketplace_rpc_connections` (called before each scrape).
    public static func recordConnections(_ count: Int) {
        let gauge = connections.withLock { gauge in
            if let gauge { return gauge }
            let made = CoreMetrics.Gauge(label: "marketplace_rpc_connections")
            gauge = made
            return made
        }
        gauge.record(count)
    }
}
