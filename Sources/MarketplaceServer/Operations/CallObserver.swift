import CoreMetrics
import Foundation
import Logging
import MarketplaceProtos
import MarketplaceRPC
import Synchronization

/// What every call the server routes leaves behind once it finishes: one log
/// line at info and the call metrics. Called from one place, where a routed
/// call's outcome is known (`ServerConnectionHandler`); a request refused before
/// routing gets its line from `refused`.
///
/// The line names the method, the peer's uid, the caller's kind
/// (`operator`, `user`, `anonymous`), the status code, the duration and the
/// request and response sizes; never a token, a password, an email or any other
/// request or response field.
///
/// Metrics (swift-metrics; exported only when the daemon runs with
/// `--metrics-listen`):
/// - `marketplace_rpc_calls_total{method, code}`: calls finished
/// - `marketplace_rpc_call_duration_seconds{method}`: latency histogram
/// - `marketplace_rpc_calls_in_flight`: calls running now
public struct CallObserver: Sendable {
    public init() {}

    /// Whether `observe` does anything for this call (metrics exported or the
    /// line written): when false, a caller may run the call without it (and
    /// without its async frame).
    func watches(_ context: RPCContext) -> Bool {
        CallMetrics.exported || context.logLevel <= .info
    }

    /// Runs `body` (the call, which notes its caller in the box it is given)
    /// and observes its outcome; `method` is the routed method's handles
    /// (made once, when the server starts) and `requestBytes` the size of the
    /// call's frame body.
    ///
    /// Free when nothing would see it: with metrics not exported (no
    /// `--metrics-listen`) and the line not written (level above info, the
    /// daemon's default `warning`), `body` runs with no box, no clock read,
    /// no metric touched.
    nonisolated(nonsending) func observe(
        _ context: RPCContext, method: CallMetrics.Method, requestBytes: Int,
        _ body: nonisolated(nonsending) (IdentityBox?) async -> Result<[UInt8], RPCError>
    ) async -> Result<[UInt8], RPCError> {
        guard watches(context) else { return await body(nil) }
        let metrics = CallMetrics.exported ? CallMetrics.shared : nil
        let writesLine = context.logLevel <= .info
        metrics?.inFlight.increment()
        let started = ContinuousClock.now
        let identity = IdentityBox()
        let result = await body(identity)
        let elapsed = ContinuousClock.now - started
        metrics?.inFlight.decrement()
        let code: StatusCode
        switch result {
        case .success: code = .ok
        case .failure(let error): code = error.code
        }
        method.record(code: code, elapsed: elapsed)
        guard writesLine else { return result }
        let responseBytes: Int
        switch result {
        case .success(let bytes): responseBytes = bytes.count
        case .failure(let error): responseBytes = error.message.utf8.count
        }
        context.logger.info("\(method.name) \(code.name)", metadata: [
            "caller": "\(Self.kind(of: identity.caller))",
            "peer.uid": "\(context.peer.uid)",
            "code": "\(code.name)",
            "duration_ms": "\(Self.milliseconds(elapsed))",
            "request_bytes": "\(requestBytes)",
            "response_bytes": "\(responseBytes)",
        ])
        return result
    }

    /// A request answered before it was routed: a frame over the size limit,
    /// an envelope that does not decode, an unknown service or method, an even
    /// stream id, a server shutting down. It gets the same line as a routed
    /// call, with `caller` `none` (no identity was decided) and `rpc.method` as
    /// the peer named it, control characters escaped and cut at 256 bytes (`-`
    /// when the envelope was not read). Counted in
    /// `marketplace_rpc_calls_refused_total{code}`: by code only, never by the
    /// peer's names (they would make unbounded labels).
    func refused(
        service: String?, method: String?, streamID: UInt32, peer: PeerCredentials, error: RPCError,
        requestBytes: Int, logger: Logger
    ) {
        CallMetrics.shared.refused(code: error.code.name)
        let named = service.map { Self.printable($0) + "/" + Self.printable(method ?? "") } ?? "-"
        logger.info("\(named) \(error.code.name) (refused before routing)", metadata: [
            "rpc.method": "\(named)",
            "rpc.stream": "\(streamID)",
            "caller": "none",
            "peer.uid": "\(peer.uid)",
            "code": "\(error.code.name)",
            "duration_ms": "0.000",
            "request_bytes": "\(requestBytes)",
            "response_bytes": "\(error.message.utf8.count)",
        ])
    }

    /// A name the peer sent, safe for one log line: at most 256 bytes, with
    /// control characters escaped as in JSON (no forged line breaks).
    static func printable(_ name: String) -> String {
        String(JSONString.quoted(ServerRPCExecutor.shortened(name)).dropFirst().dropLast())
    }

    /// The identity kind only: never a user id or a session.
    static func kind(of caller: Caller) -> String {
        switch caller {
        case .anonymous: "anonymous"
        case .operator: "operator"
        case .service: "service"
        case .user: "user"
        }
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let ms = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return String(format: "%.3f", ms)
    }
}

/// The call metrics of the whole server: the in-flight gauge and the
/// refusals by code. Per-method handles live in `CallMetrics.Method`.
final class CallMetrics: Sendable {
    static let shared = CallMetrics()

    /// Whether swift-metrics has a backend (the daemon's `--metrics-listen`
    /// bootstraps one first thing), read once, at the first call: without
    /// one, calls skip their metrics, clock reads included. As with any
    /// swift-metrics handle, a backend bootstrapped after the first call is
    /// not used for call metrics.
    static let exported = !(MetricsSystem.factory is NOOPMetricsHandler)

    let inFlight = Meter(label: "marketplace_rpc_calls_in_flight")

    private let refusals = Mutex<[String: Counter]>([:])

    func refused(code: String) {
        let counter = refusals.withLock { refusals in
            if let counter = refusals[code] { return counter }
            let counter = Counter(label: "marketplace_rpc_calls_refused_total", dimensions: [("code", code)])
            refusals[code] = counter
            return counter
        }
        counter.increment()
    }

    /// One routed method's name and metric handles, made once when the
    /// server starts: a call records with no lookup by name. The latency
    /// timer and the counters (by status code, made on the first call that
    /// ends with the code) are made on first use, after the metrics system
    /// was bootstrapped.
    final class Method: Sendable {
        /// `service/method`.
        let name: String
        private let handles = Mutex<Handles?>(nil)

        private struct Handles {
            let timer: CoreMetrics.Timer
            var counters: [Counter?]
        }

        init(name: String) {
            self.name = name
        }

        func record(code: StatusCode, elapsed: Duration) {
            guard CallMetrics.exported else { return }
            // Codes are 0...16; another one (never sent by this server) gets no slot.
            let index = (0..<64).contains(code.rawValue) ? Int(code.rawValue) : nil
            let name = self.name
            let (counter, timer) = handles.withLock { handles -> (Counter, CoreMetrics.Timer) in
                if let handles, let index, index < handles.counters.count, let counter = handles.counters[index] {
                    return (counter, handles.timer)
                }
                var made = handles ?? Handles(
                    timer: CoreMetrics.Timer(label: "marketplace_rpc_call_duration_seconds", dimensions: [("method", name)]),
                    counters: [])
                let counter = Counter(
                    label: "marketplace_rpc_calls_total", dimensions: [("method", name), ("code", code.name)])
                if let index {
                    if made.counters.count <= index {
                        made.counters += Array(repeating: nil, count: index + 1 - made.counters.count)
                    }
                    made.counters[index] = counter
                }
                handles = made
                return (counter, made.timer)
            }
            counter.increment()
            let (seconds, attoseconds) = elapsed.components
            timer.recordNanoseconds(Int64(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        }
    }
}

/// The caller of one call as the router's interceptor left it (even when it
/// refused the call), noted by the executor, read once the call finished.
final class IdentityBox: Sendable {
    private let value = Mutex<Caller>(.anonymous)
    var caller: Caller {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
