import MarketplaceRPC

/// A call as interceptors see it: which method, the encoded request and the
/// call's options (already merged with the client's defaults). An interceptor
/// may change the payload and the options (add metadata, shorten the timeout).
public struct ClientCall: Sendable {
    /// `package.Service`, e.g. `marketplace.users.v1.AccountUsers`.
    public let service: String
    /// The method name, e.g. `ListAccountUsers`.
    public let method: String
    /// What the contract says about running it twice.
    public let idempotency: Idempotency
    /// The request message, protobuf-encoded.
    public var payload: [UInt8]
    public var options: CallOptions
}

/// The answer to a call, as interceptors see it.
///
/// The ttrpc wire carries no response metadata (`ttrpc.Response` is a status
/// and a payload; see docs/protocol.md), so there is none to read: what the
/// wire has is the payload, and on failure the status's code, message and
/// details (`RPCError.details`).
public struct ClientResponse: Sendable {
    /// The response message, protobuf-encoded.
    public var payload: [UInt8]
    /// How many attempts the call took (more than 1 after retries).
    public var attempts: Int
}

/// Code that runs around every call of a client, in one place: add a bearer
/// token or trace context, log, measure.
///
/// Interceptors run in the order given to the client, the first outermost,
/// once per call (retries and waiting for the server happen inside `next`).
///
/// ```swift
/// struct Logging: ClientInterceptor {
///     func intercept(
///         _ call: ClientCall, next: (ClientCall) async throws(RPCError) -> ClientResponse
///     ) async throws(RPCError) -> ClientResponse {
///         do {
///             let response = try await next(call)
///             print("\(call.method): OK")
///             return response
///         } catch {
///             print("\(call.method): \(error.code)")
///             throw error
///         }
///     }
/// }
/// ```
public protocol ClientInterceptor: Sendable {
    func intercept(
        _ call: ClientCall, next: (ClientCall) async throws(RPCError) -> ClientResponse
    ) async throws(RPCError) -> ClientResponse
}

/// An interceptor that adds metadata to every call, computed per call (a
/// bearer token that may be refreshed, a trace id).
///
/// ```swift
/// let client = MarketplaceClient(socketPath: path, interceptors: [
///     MetadataInterceptor { _ in ["authorization": "Bearer \(await tokens.current())"] },
/// ])
/// ```
public struct MetadataInterceptor: ClientInterceptor {
    private let metadata: @Sendable (ClientCall) async throws(RPCError) -> Metadata

    public init(_ metadata: @escaping @Sendable (ClientCall) async throws(RPCError) -> Metadata) {
        self.metadata = metadata
    }

    public func intercept(
        _ call: ClientCall, next: (ClientCall) async throws(RPCError) -> ClientResponse
    ) async throws(RPCError) -> ClientResponse {
        var call = call
        for (key, value) in try await metadata(call) { call.options.metadata.add(key, value) }
        return try await next(call)
    }
}
