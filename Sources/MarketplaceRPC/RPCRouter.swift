import MarketplaceProtos
import NIOCore

/// Maps `package.Service/Method` to its handler. Built once at start-up; a miss
/// answers `UNIMPLEMENTED`.
///
/// Each method holds three parts, as grpc-swift's router does: a deserializer
/// for its request, the handler, a serializer for its response. The router
/// runs none of them: the server's executor is the one owner of the call
/// order (decode, authorize with the router's interceptor, handle, encode),
/// so every method passes the same steps in the same order.
public struct RPCRouter: Sendable {
    /// A registered method.
    public struct Method: Sendable {
        public let service: String
        public let method: String
        /// Its deserializer, handler and serializer.
        public let handler: any RPCMethodHandler
        /// `service/method`, made once at registration (the per-call log line
        /// and metrics label use it without building a string per call).
        public let fullName: String

        init(service: String, method: String, handler: any RPCMethodHandler) {
            self.service = service
            self.method = method
            self.handler = handler
            self.fullName = "\(service)/\(method)"
        }
    }

    private var services: [String: [String: Method]] = [:]
    /// Runs on every decoded request before its handler.
    public let interceptor: (any RPCInterceptor)?

    /// Creates an empty router whose methods all pass through `interceptor`
    /// (after decoding the request, before the handler).
    public init(interceptor: (any RPCInterceptor)? = nil) {
        self.interceptor = interceptor
    }

    /// Registers a unary method from its three parts (what generated code calls).
    public mutating func register<Request: ProtoMessage, Response: ProtoMessage>(
        service: String, method: String,
        deserializer: ProtoDeserializer<Request>, serializer: ProtoSerializer<Response>,
        handler: @escaping @Sendable (Request, RPCContext) async throws -> Response
    ) {
        services[service, default: [:]][method] = Method(
            service: service, method: method,
            handler: UnaryMethodHandler(deserializer: deserializer, serializer: serializer, handler: handler))
    }

    /// Registers a unary method with the protobuf deserializer and serializer
    /// of its types.
    public mutating func register<Request: ProtoMessage, Response: ProtoMessage>(
        service: String, method: String,
        _ handler: @escaping @Sendable (Request, RPCContext) async throws -> Response
    ) {
        register(
            service: service, method: method, deserializer: ProtoDeserializer<Request>(),
            serializer: ProtoSerializer<Response>(), handler: handler)
    }

    /// The handler for a method, or nil.
    public func method(service: String, method: String) -> Method? {
        services[service]?[method]
    }

    /// Every registered method, in no particular order.
    public var methods: [Method] { services.values.flatMap(\.values) }

    /// Every registered `service/method`, sorted.
    public var methodNames: [String] {
        services.flatMap { service, methods in methods.keys.map { "\(service)/\($0)" } }.sorted()
    }

    /// Whether any method of `service` is registered.
    public func hasService(_ service: String) -> Bool { services[service] != nil }
}
