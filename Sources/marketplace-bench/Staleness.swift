import Foundation
import MarketplaceClient

/// How stale the client's `AccessCache` gets: commits a block or unblock of a
/// seeded member, then times until the cache has applied the change. Also
/// checks that the very next CheckAccess after a committed block refuses.
enum Staleness {
    static func tokens(_ file: String) throws -> [String] {
        try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    static func run(socket: String, tokens: [String], rounds: Int) async throws {
        let client = MarketplaceClient(socketPath: socket)
        let cache = AccessCache(client: client)
        cache.start()
        // An active member with a seeded session.
        var member = ""
        var token = ""
        for candidate in tokens {
            let answer = try await client.access.checkAccess(.init(token: candidate))
            if answer.allowed {
                member = answer.accountUserId
                token = candidate
                break
            }
        }
        guard !member.isEmpty else { throw BenchError("no active member among the seeded sessions") }
        // Wait until the follower is caught up.
        while true {
            _ = try await cache.check(.init(token: token))
            if cache.statistics.hits > 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        var samples: [Double] = []
        var refusedAtOnce = 0
        for round in 0..<rounds {
            let before = cache.position
            let t0 = ContinuousClock.now
            if round % 2 == 0 {
                _ = try await client.accountUsers.blockAccountUser(.init(accountUserId: member))
            } else {
                _ = try await client.accountUsers.unblockAccountUser(.init(accountUserId: member))
            }
            let committed = ContinuousClock.now
            if round % 2 == 0 {
                let answer = try await client.access.checkAccess(.init(token: token))
                if answer.reason == .membershipBlocked { refusedAtOnce += 1 }
            }
            await cache.waitUntilApplied(before + 1)
            let seen = ContinuousClock.now
            _ = t0
            let (s, a) = (seen - committed).components
            samples.append(Double(s) * 1e6 + Double(a) / 1e12)
            // The cache must now answer as the server does.
            let cached = try await cache.check(.init(token: token))
            if round % 2 == 0, cached.allowed { throw BenchError("cache still allows after the block was applied") }
        }
        if rounds % 2 == 1 { _ = try await client.accountUsers.unblockAccountUser(.init(accountUserId: member)) }
        cache.stop()
        await client.close()
        samples.sort()
        func pct(_ p: Double) -> Double { samples[min(samples.count - 1, max(0, Int((Double(samples.count) * p).rounded(.up)) - 1))] }
        print(String(
            format: "{\"scenario\":\"cache-staleness\",\"rounds\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,\"blocks\":%d,\"refused_at_once\":%d}",
            rounds, pct(0.5), pct(0.99), samples.last ?? 0, (rounds + 1) / 2, refusedAtOnce))
    }
}
