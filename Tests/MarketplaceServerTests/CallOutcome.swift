import MarketplaceClient

/// The outcome of a call: OK, or the status it was refused with (`unknown`
/// for an error that is not an `RPCError`).
func statusCode<T: Sendable>(_ body: () async throws -> T) async -> StatusCode {
    do {
        _ = try await body()
        return .ok
    } catch let error as RPCError {
        return error.code
    } catch {
        return .unknown
    }
}
