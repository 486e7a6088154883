import Foundation
import MarketplaceClient
import Synchronization

/// Drives one scenario through the Swift client library and prints one JSON line.
enum Load {
    struct Options {
        var socket = ""
        var scenario = "health"
        var callers = 1
        var connections = 1
        var seconds = 2.0
        var warmup = 0.3
        var size = Seed.Size()
        /// For `getuser-under-signin`: callers signing in meanwhile.
        var signInCallers = 16
    }

    static let signInPassword = "Bench!pass1"
    static let signInUsers = 32
    /// Seeded session tokens, for `checkaccess` (set once before the load starts).
    nonisolated(unsafe) static var sessionTokens: [String] = []

    final class Flags: Sendable {
        let stop = Atomic<Bool>(false)
        let measuring = Atomic<Bool>(false)
        /// Sign-ins that succeeded in the measured window (`getuser-under-signin`).
        let signIns = Atomic<Int>(0)
    }

    /// Per-caller latencies in nanoseconds; merged at the end.
    final class Recorder: @unchecked Sendable {
        var samples: [UInt64] = []
        var errors = 0
        var lastError = ""
        init() { samples.reserveCapacity(1 << 16) }
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func run(_ o: Options) async throws {
        // `--socket a,b,c`: several daemons (a fleet on one database); the
        // connections are spread over them in turn.
        let sockets = o.socket.split(separator: ",").map(String.init)
        let clients = (0..<max(1, o.connections)).map { MarketplaceClient(socketPath: sockets[$0 % sockets.count]) }
        defer { Task { for c in clients { await c.close() } } }
        for c in clients { _ = try await c.health.check() }
        if o.scenario == "signin" || o.scenario == "getuser-under-signin" {
            try await prepareSignInUsers(clients[0], size: o.size)
        }
        let invitePrefix = "bench\(getpid())x\(UInt32.random(in: 0...UInt32.max))"
        let measured = o.scenario == "getuser-under-signin" ? "getuser" : o.scenario
        let flags = Flags()
        let recorders = (0..<o.callers).map { _ in Recorder() }
        let started = now()
        var measureStart: UInt64 = 0
        var measureEnd: UInt64 = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            if o.scenario == "getuser-under-signin" {
                for i in 0..<o.signInCallers {
                    let client = clients[i % clients.count]
                    group.addTask {
                        var n = i
                        while !flags.stop.load(ordering: .relaxed) {
                            n += 1
                            let signedIn = try? await client.sessions.signIn(.init(
                                email: "bench.signin.\(n % signInUsers)@example.com", password: signInPassword))
                            if signedIn != nil, flags.measuring.load(ordering: .relaxed) {
                                flags.signIns.add(1, ordering: .relaxed)
                            }
                        }
                    }
                }
            }
            for i in 0..<o.callers {
                let client = clients[i % clients.count]
                let recorder = recorders[i]
                group.addTask {
                    var rng = SplitMix(seed: UInt64(i) &* 7919 &+ started)
                    var sequence = 0
                    while !flags.stop.load(ordering: .relaxed) {
                        sequence += 1
                        let t0 = now()
                        do {
                            try await call(measured, client: client, rng: &rng, size: o.size,
                                           unique: "\(invitePrefix)c\(i)n\(sequence)")
                        } catch {
                            if flags.measuring.load(ordering: .relaxed) {
                                recorder.errors += 1
                                recorder.lastError = "\(error)"
                            }
                            continue
                        }
                        if flags.measuring.load(ordering: .relaxed) { recorder.samples.append(now() - t0) }
                    }
                }
            }
            try await Task.sleep(for: .seconds(o.warmup))
            // Marks the measured window; the orchestrator samples the server around it.
            FileHandle.standardError.write(Data("MEASURE-START\n".utf8))
            measureStart = now()
            flags.measuring.store(true, ordering: .relaxed)
            try await Task.sleep(for: .seconds(o.seconds))
            flags.measuring.store(false, ordering: .relaxed)
            measureEnd = now()
            FileHandle.standardError.write(Data("MEASURE-END\n".utf8))
            flags.stop.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }
        var all: [UInt64] = []
        var errors = 0
        var lastError = ""
        for r in recorders {
            all += r.samples
            errors += r.errors
            if !r.lastError.isEmpty { lastError = r.lastError }
        }
        all.sort()
        func pct(_ p: Double) -> Double {
            guard !all.isEmpty else { return 0 }
            let index = min(all.count - 1, Int((Double(all.count) * p).rounded(.up)) - 1)
            return Double(all[max(0, index)]) / 1000
        }
        let elapsed = Double(measureEnd - measureStart) / 1e9
        let line = String(
            format: "{\"scenario\":\"%@\",\"callers\":%d,\"connections\":%d,\"calls\":%d,\"errors\":%d,\"seconds\":%.3f,\"rate\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"sign_ins_per_s\":%.1f,\"last_error\":%@}",
            o.scenario, o.callers, o.connections, all.count, errors, elapsed, Double(all.count) / elapsed,
            pct(0.5), pct(0.99), pct(0.999), Double(flags.signIns.load(ordering: .relaxed)) / elapsed,
            jsonString(String(lastError.prefix(200))))
        print(line)
    }

    static func jsonString(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s])
        let text = String(decoding: data, as: UTF8.self)
        return String(text.dropFirst().dropLast())
    }

    /// One call of a scenario.
    static func call(
        _ scenario: String, client: MarketplaceClient, rng: inout SplitMix, size: Seed.Size, unique: String
    ) async throws {
        switch scenario {
        case "health":
            _ = try await client.health.check()
        case "getuser":
            let n = 1 + Int(rng.next() % UInt64(size.users))
            _ = try await client.accountUsers.getAccountUser(.init(accountUserId: Seed.memberID(n)))
        case "list":
            // A page of 50 active members of the 100,000-member account whose
            // id, name or email contains the text; a few different texts.
            let texts = ["mar", "ada", "kow", "ri", "sil"]
            var request = ListAccountUsersRequest()
            request.accountId = Seed.accountID(1)
            request.statuses = [.active]
            request.query = texts[Int(rng.next() % UInt64(texts.count))]
            request.pageSize = 50
            let response = try await client.accountUsers.listAccountUsers(request)
            if response.accountUsers.count != 50 { throw BenchError("list returned \(response.accountUsers.count) rows") }
        case "invite":
            let account = 2 + Int(rng.next() % UInt64(size.accounts - 1))
            _ = try await client.accountUsers.inviteUser(.init(
                accountId: Seed.accountID(account), email: "\(unique)@example.com", firstName: "Bench",
                lastName: "Invitee", groupIds: [Seed.groupID(account)]))
        case "checkaccess":
            // A random seeded session of a member of the 100,000-member
            // account (about 10% of them blocked: refused, a normal answer).
            let token = sessionTokens[Int(rng.next() % UInt64(sessionTokens.count))]
            let answer = try await client.access.checkAccess(.init(token: token, permissions: ["catalog.view"]))
            if answer.userId.isEmpty { throw BenchError("check: \(answer.reason)") }
        case "signin":
            let n = Int(rng.next() % UInt64(signInUsers))
            _ = try await client.sessions.signIn(.init(email: "bench.signin.\(n)@example.com", password: signInPassword))
        default:
            throw BenchError("unknown scenario \(scenario)")
        }
    }

    /// Users with a password, created through the API (invite, then accept),
    /// unless they already exist.
    static func prepareSignInUsers(_ client: MarketplaceClient, size: Seed.Size) async throws {
        for n in 0..<signInUsers {
            let email = "bench.signin.\(n)@example.com"
            if (try? await client.users.findUserByEmail(.init(email: email))) != nil { continue }
            let invited = try await client.accountUsers.inviteUser(.init(
                accountId: Seed.accountID(2), email: email, firstName: "Sign", lastName: "In\(n)",
                groupIds: [Seed.groupID(2)]))
            let token = String(invited.invitationLink.split(separator: "/").last!)
            _ = try await client.invitations.acceptInvitation(.init(
                token: token, firstName: "Sign", lastName: "In\(n)", password: signInPassword, acceptTerms: true))
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
