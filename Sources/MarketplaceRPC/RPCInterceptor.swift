import MarketplaceProtos

/// Runs before every handler with the decoded request: decides who the caller
/// is (setting `context.caller`) and refuses calls they may not make by
/// throwing an `RPCError`. One interceptor per router, so that every method
/// passes the same checks.
public protocol RPCInterceptor: Sendable {
    /// Checks one call of the method `context` names.
    func intercept<Request: ProtoMessage>(request: Request, context: inout RPCContext) async throws

    /// The interceptor for the calls of one method only, made once at start:
    /// it may resolve per-method work (a rule lookup) ahead of the calls. The
    /// server calls it for every registered method and uses the result only
    /// for calls of that method. By default, the interceptor itself.
    func bound(toService service: String, method: String) -> any RPCInterceptor
}

extension RPCInterceptor {
    public func bound(toService service: String, method: String) -> any RPCInterceptor { self }
}
