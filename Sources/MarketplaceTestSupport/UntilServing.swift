import MarketplaceClient

/// Calls Health/Check until it answers SERVING, for at most `seconds`; the
/// last answer (nil if none came).
///
/// On PostgreSQL the server answers NOT_SERVING while `SELECT 1` takes over
/// 2 s (the contract's "database unreachable"), which the loaded CI machine
/// caused now and then in the PostgreSQL pass. A test that is not about that
/// waits for SERVING with this before it relies on it; it still fails if
/// SERVING never comes.
public func untilServing(_ client: MarketplaceClient, seconds: Double = 60) async -> HealthCheckResponse? {
    await pollHealth(seconds: seconds, pause: .milliseconds(100), while: { true }) {
        try await client.health.check(options: CallOptions(timeout: .seconds(10)))
    }
}

/// ``untilServing(_:seconds:)`` for a server that may not listen yet (a
/// daemon just started): a new connection for each try, and no more tries
/// once `alive` answers false (the daemon exited).
public func untilServing(socketPath: String, seconds: Double, while alive: () -> Bool) async -> HealthCheckResponse? {
    await pollHealth(seconds: seconds, pause: .milliseconds(50), while: alive) {
        try await MarketplaceClient.withClient(socketPath: socketPath) { client in
            try await client.health.check(options: CallOptions(timeout: .seconds(2)))
        }
    }
}

private func pollHealth(
    seconds: Double, pause: Duration, while alive: () -> Bool, _ check: () async throws -> HealthCheckResponse
) async -> HealthCheckResponse? {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    var last: HealthCheckResponse?
    while ContinuousClock.now < deadline, alive() {
        if let answer = try? await check() {
            last = answer
            if answer.status == .serving { return answer }
        }
        try? await Task.sleep(for: pause)
    }
    return last
}
