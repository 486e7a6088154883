#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// `--metrics-listen`: the Prometheus text format over plain HTTP (`GET
/// /metrics`), on a loopback TCP address (`127.0.0.1:9464`, `[::1]:9464`,
/// `localhost:9464`; port 0 picks a free port) or a Unix socket path (any
/// address with a `/`). Nothing but loopback is accepted: the metrics carry no
/// secret, but they are not for the network.
public final class MetricsEndpoint: Sendable {
    /// Where it listens, as bound (the real port when 0 was asked for).
    public let address: String
    private let channel: any Channel
    private let unixPath: String?

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// The parsed form of a `--metrics-listen` value.
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)

        /// - Throws: when `text` is neither a loopback `host:port` nor a socket path.
        public init(parsing text: String, name: String) throws(Problem) {
            if text.contains("/") {
                self = .unix(path: text)
                return
            }
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                  (0...65_535).contains(port) else {
                throw Problem(description: "\(name) must be a loopback host:port such as 127.0.0.1:9464 or a Unix socket path, not '\(text)'")
            }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard host == "localhost" || host == "::1" || host.hasPrefix("127.") else {
                throw Problem(description: "\(name) must listen on loopback (127.0.0.1, ::1 or localhost), not '\(host)'")
            }
            self = .tcp(host: host == "localhost" ? "127.0.0.1" : host, port: port)
        }
    }

    private init(address: String, channel: any Channel, unixPath: String?) {
        self.address = address
        self.channel = channel
        self.unixPath = unixPath
    }

    /// Binds `address` and serves the registry of `ServiceMetrics.bootstrap()`
    /// (call it first); `beforeScrape` runs before each scrape (to set gauges
    /// read on demand; it may read the store: the answer waits for it, the
    /// event loop does not).
    public static func start(
        _ address: Address, beforeScrape: @escaping @Sendable () async -> Void = {}, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> MetricsEndpoint {
        guard let registry = ServiceMetrics.registry else {
            throw Problem(description: "metrics are not bootstrapped (ServiceMetrics.bootstrap())")
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(
                        ScrapeHandler(registry: registry, beforeScrape: beforeScrape))
                }
            }
        do {
            switch address {
            case .tcp(let host, let port):
                let channel = try await bootstrap.bind(host: host, port: port).get()
                let bound = channel.localAddress?.port ?? port
                let shown = host.contains(":") ? "[\(host)]:\(bound)" : "\(host):\(bound)"
                return MetricsEndpoint(address: shown, channel: channel, unixPath: nil)
            case .unix(let path):
                do {
                    try SocketPath.prepare(path)
                } catch {
                    throw Problem(description: "metrics: \(error.description)")
                }
                let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false).get()
                chmod(path, 0o660)
                return MetricsEndpoint(address: path, channel: channel, unixPath: path)
            }
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(description: "cannot listen for metrics on \(address): \(error)")
        }
    }

    /// Stops listening (and removes the Unix socket file).
    public func close() async {
        try? await channel.close()
        if let unixPath { unlink(unixPath) }
    }
}

/// Answers `GET /metrics` (and `GET /`) with the registry's text; 404 otherwise.
private final class ScrapeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private let beforeScrape: @Sendable () async -> Void
    private var head: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry, beforeScrape: @escaping @Sendable () async -> Void) {
        self.registry = registry
        self.beforeScrape = beforeScrape
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            let scrape = (head.method == .GET || head.method == .HEAD) && (path == "/metrics" || path == "/")
            guard scrape else {
                answer(head, scrape: false, context: context)
                return
            }
            // Gauges read on demand first (off the loop), then the answer on the loop.
            let promise = context.eventLoop.makePromise(of: Void.self)
            promise.completeWithTask { [beforeScrape] in await beforeScrape() }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenComplete { _ in
                let (handler, context) = bound.value
                handler.answer(head, scrape: true, context: context)
            }
        }
    }

    private func answer(_ head: HTTPRequestHead, scrape: Bool, context: ChannelHandlerContext) {
        let status: HTTPResponseStatus
        var body = context.channel.allocator.buffer(capacity: 4096)
        var headers = HTTPHeaders()
        if scrape {
            status = .ok
            if head.method == .GET { body.writeBytes(registry.emitToBuffer()) }
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
        } else {
            status = .notFound
            body.writeString("only GET /metrics is served here\n")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        }
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
