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

    /// The caller the router's interceptor decided on, for the call running in
    /// this task (see ``IdentityRecordingInterceptor``).
    @TaskLocal static var identity: IdentityBox?

    /// Runs `body` (the call) and observes its outcome; `requestBytes` is the
    /// size of the call's frame body.
    func observe(
        _ context: RPCContext, requestBytes: Int, _ body: () async -> Result<[UInt8], RPCError>
    ) async -> Result<[UInt8], RPCError> {
        CallMetrics.shared.inFlight.increment()
        let started = ContinuousClock.now
        let identity = IdentityBox()
        let result = await Self.$identity.withValue(identity) { await body() }
        let elapsed = ContinuousClock.now - started
        CallMetrics.shared.inFlight.decrement()
        let method = "\(context.service)/\(context.method)"
        let code: StatusCode
        let responseBytes: Int
        switch result {
        case .success(let bytes):
            code = .ok
            responseBytes = bytes.count
        case .failure(let error):
            code = error.code
            responseBytes = error.message.utf8.count
        }
        CallMetrics.shared.record(method: method, code: code.name, elapsed: elapsed)
        context.logger.info("\(method) \(code.name)", metadata: [
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

/// The per-method metric handles, made once per method and code (a lookup per
/// call instead of a registry search).
final class CallMetrics: Sendable {
    static let shared = CallMetrics()

    let inFlight = Meter(label: "marketplace_rpc_calls_in_flight")
    private let counters = Mutex<[String: Counter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])

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

    func record(method: String, code: String, elapsed: Duration) {
        let key = method + " " + code
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: "marketplace_rpc_calls_total", dimensions: [("method", method), ("code", code)])
            counters[key] = counter
            return counter
        }
        counter.increment()
        let timer = timers.withLock { timers in
            if let timer = timers[method] { return timer }
            let timer = CoreMetrics.Timer(label: "marketplace_rpc_call_duration_seconds", dimensions: [("method", method)])
            timers[method] = timer
            return timer
        }
        timer.recordNanoseconds(Int64(clamping: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000))
    }
}

/// The caller of one call, written by the interceptor's task, read once the call finished.
final class IdentityBox: Sendable {
    private let value = Mutex<Caller>(.anonymous)
    var caller: Caller {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

/// Wraps the router's interceptor to note who the caller is (`context.caller`
/// as the wrapped interceptor left it, even when it refused the call) for the
/// per-call log line. Reads `context.caller` only; changes nothing.
public struct IdentityRecordingInterceptor: RPCInterceptor {
    let wrapped: any RPCInterceptor

    public init(_ wrapped: any RPCInterceptor) {
        self.wrapped = wrapped
    }

    public func intercept(request: any ProtoMessage, context: inout RPCContext) async throws {
        defer { CallObserver.identity?.caller = context.caller }
        try await wrapped.intercept(request: request, context: &context)
    }
}
