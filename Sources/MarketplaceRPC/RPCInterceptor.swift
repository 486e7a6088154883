import MarketplaceProtos

/// Runs before every handler with the decoded request: decides who the caller
/// is (setting `context.caller`) and refuses calls they may not make by
/// throwing an `RPCError`. One interceptor per router, so that every method
/// passes the same checks.
public protocol RPCInterceptor: Sendable {
    func intercept(request: any ProtoMessage, context: inout RPCContext) async throws
}
