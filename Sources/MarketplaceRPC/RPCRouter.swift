import MarketplaceProtos
import NIOCore

/// Maps `package.Service/Method` to its handler. Built once at start-up; a miss
/// answers `UNIMPLEMENTED`.
///
/// Each method is registered from three parts, as grpc-swift's router does: a
/// deserializer for its request, the handler, a serializer for its response.
/// Registration joins them, with the interceptor's check between decoding and
/// the handler, into one ``Method/invoke`` specialized for the method's
/// types (no generic dispatch per call). The router runs nothing: the server's
/// executor is the one owner of the call (deadline, errors, answer), and every
/// method passes the same steps in the same order.
public struct RPCRouter: Sendable {
    /// A registered method.
    public struct Method: Sendable {
        /// Decodes the request payload (INVALID_ARGUMENT naming the method if
        /// it does not decode), runs `interceptor` on it (which may set
        /// `context.caller` and refuse the call), then the handler, and
        /// encodes the response.
        public typealias Invoke = @Sendable (
            _ payload: [UInt8], _ context: inout RPCContext, _ interceptor: (any RPCInterceptor)?
        ) async throws -> [UInt8]

        public let service: String
        public let method: String
        /// The method's steps, made at registration.
        public let invoke: Invoke
        /// `service/method`, made once at registration (the per-call log line
        /// and metrics label use it without building a string per call).
        public let fullName: String

        @usableFromInline
        init(service: String, method: String, invoke: @escaping Invoke) {
            self.service = service
            self.method = method
            self.invoke = invoke
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

    /// Registers a unary method from its three parts (what generated code
    /// calls). Inlinable, so that the method's steps are compiled for its
    /// request and response types where it is registered.
    @inlinable
    public mutating func register<Request: ProtoMessage, Response: ProtoMessage>(
        service: String, method: String,
        deserializer: ProtoDeserializer<Request>, serializer: ProtoSerializer<Response>,
        handler: @escaping @Sendable (Request, RPCContext) async throws -> Response
    ) {
        add(Method(service: service, method: method) { payload, context, interceptor in
            let request: Request
            do {
                request = try deserializer.deserialize(payload)
            } catch {
                throw RPCError(
                    .invalidArgument, "\(context.service)/\(context.method): request payload does not decode: \(error)")
            }
            if let interceptor {
                try await interceptor.intercept(request: request, context: &context)
            }
            return serializer.serialize(try await handler(request, context))
        })
    }

    /// Registers a unary method with the protobuf deserializer and serializer
    /// of its types.
    @inlinable
    public mutating func register<Request: ProtoMessage, Response: ProtoMessage>(
        service: String, method: String,
        _ handler: @escaping @Sendable (Request, RPCContext) async throws -> Response
    ) {
        register(
            service: service, method: method, deserializer: ProtoDeserializer<Request>(),
            serializer: ProtoSerializer<Response>(), handler: handler)
    }

    /// Adds (or replaces) a method.
    @usableFromInline
    mutating func add(_ method: Method) {
        services[method.service, default: [:]][method.method] = method
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
