import MarketplaceClient

/// Calls Health/Check until it answers SERVING, for at most `seconds`; the
/// last answer (nil if none came).
///
/// On PostgreSQL the server answers NOT_SERVING while `SELECT 1` takes over
/// 2 s (the contract's "database unreachable"), which the loaded CI machine
/// caused now and then in the PostgreSQL pass. A test that is not about that
/// waits for SERVING with this before it relies on it; it still fails if
/// SERVING never comes.
public func untilServing(_ client: MarketplaceClient, seconds: Int = 60) async -> HealthCheckResponse? {
    let deadline = ContinuousClock.now + .seconds(seconds)
    var last: HealthCheckResponse?
    while ContinuousClock.now < deadline {
        if let answer = try? await client.health.check(options: CallOptions(timeout: .seconds(10))) {
            last = answer
            if answer.status == .serving { return answer }
        }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return last
}
