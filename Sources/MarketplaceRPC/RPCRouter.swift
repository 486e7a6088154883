import MarketplaceProtos
import NIOCore

/// Maps `package.Service/Method` to its handler. Built once at start-up; a miss
/// answers `UNIMPLEMENTED`.
///
/// Generated service protocols register their methods with
/// `register(service:method:_:)`, which owns decoding the request (a bad payload
/// answers `INVALID_ARGUMENT`) and encoding the response.
public struct RPCRouter: Sendable {
    /// A registered method: takes the encoded request, returns the encoded response.
    public struct Method: Sendable {
        public let service: String
        public let method: String
        let body: @Sendable (ByteBuffer, RPCContext) async throws -> [UInt8]

        /// Runs the handler on an encoded request.
        public func callAsFunction(_ payload: ByteBuffer, context: RPCContext) async throws -> [UInt8] {
            try await body(payload, context)
        }
    }

    private var services: [String: [String: Method]] = [:]
    private let interceptor: (any RPCInterceptor)?

    /// Creates an empty router whose methods all pass through `interceptor`
    /// (after decoding the request, before the handler).
    public init(interceptor: (any RPCInterceptor)? = nil) {
        self.interceptor = interceptor
    }

    /// Registers a unary method.
    public mutating func register<Request: ProtoMessage, Response: ProtoMessage>(
        service: String, method: String,
        _ handler: @escaping @Sendable (Request, RPCContext) async throws -> Response
    ) {
        let interceptor = self.interceptor
        services[service, default: [:]][method] = Method(service: service, method: method) { payload, context in
            var context = context
            let request: Request
            do {
                request = try payload.withUnsafeReadableBytes { raw in try Request(serializedBytes: raw) }
            } catch {
                throw RPCError(.invalidArgument, "\(service)/\(method): request payload does not decode: \(error)")
            }
            try await interceptor?.intercept(request: request, context: &context)
            return try await handler(request, context).serializedBytes()
        }
    }

    /// The handler for a method, or nil.
    public func method(service: String, method: String) -> Method? {
        services[service]?[method]
    }

    /// Every registered `service/method`, sorted.
    public var methodNames: [String] {
        services.flatMap { service, methods in methods.keys.map { "\(service)/\($0)" } }.sorted()
    }

    /// Whether any method of `service` is registered.
    public func hasService(_ service: String) -> Bool { services[service] != nil }
}
