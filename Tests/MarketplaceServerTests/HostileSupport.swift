import Foundation
import MarketplaceClient
import MarketplaceRPC
import MarketplaceTestSupport
import Synchronization
import Testing

// Helpers for the hostile-input, fault and crash tests: raw sockets held in
// bulk, blocking work on threads of their own, process memory, a bystander
// client that must keep being served.

/// Runs blocking `body` on a new thread, never on Swift's cooperative pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Whether this process runs under a sanitizer (Scripts/sanitizers sets these):
/// memory and time bounds are then meaningless (quarantine, instrumentation).
let underSanitizer = ["ASAN_OPTIONS", "TSAN_OPTIONS"].contains { ProcessInfo.processInfo.environment[$0] != nil }

/// How much longer waits may take under a sanitizer (ThreadSanitizer is ~10x slower).
let slowdown: Double = underSanitizer ? 8 : 1

/// Resident set size of process `pid` (self by default), in bytes, from /proc.
func residentBytes(of pid: Int32? = nil) -> Int {
    let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
    guard let status = try? String(contentsOfFile: path, encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else { return 0 }
    return kib * 1024
}

/// Connects a blocking Unix socket to `path`; -1 when the connection fails.
func connectUnix(_ path: String) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: Array(path.utf8) + [0]) }
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard result == 0 else {
        close(fd)
        return -1
    }
    return fd
}

/// Which of `fds` the server closed (end of stream or reset) within `seconds`;
/// bytes that arrive before the end are discarded.
func closedByPeer(_ fds: [Int32], within seconds: Double, expecting: Int? = nil) -> Set<Int32> {
    var closed = Set<Int32>()
    let deadline = Date().addingTimeInterval(seconds)
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while closed.count < (expecting ?? fds.count), Date() < deadline {
        var polls = fds.filter { !closed.contains($0) }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
        guard poll(&polls, nfds_t(polls.count), min(remaining, 200)) >= 0 else { break }
        for p in polls where p.revents != 0 {
            let n = buffer.withUnsafeMutableBytes { recv(p.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { closed.insert(p.fd) }
        }
    }
    return closed
}

/// A request frame as the client writes it.
func requestFrame(
    streamID: UInt32, service: String, method: String, payload: [UInt8] = [], metadata: [(String, String)] = []
) -> [UInt8] {
    var request = TTRPCRequest(service: service, method: method, payload: payload)
    request.metadata = metadata.map { TTRPCKeyValue(key: $0.0, value: $0.1) }
    let body = request.serializedBytes()
    return RawConnection.header(length: UInt32(body.count), streamID: streamID) + body
}

/// A router for hostile-peer tests: echo, sleep, a large answer, and a count of
/// the Sleep and Big calls that reached a handler (Echo is the bystander's).
func hostileRouter(calls: CallCounter? = nil) -> RPCRouter {
    var router = RPCRouter()
    router.register(service: "test.Echo", method: "Echo") { (request: TTRPCKeyValue, _) in request }
    router.register(service: "test.Echo", method: "Sleep") { (request: TTRPCKeyValue, _) in
        calls?.increment()
        try await Task.sleep(for: .milliseconds(Int(request.value) ?? 0))
        return request
    }
    router.register(service: "test.Echo", method: "Big") { (request: TTRPCKeyValue, _) in
        calls?.increment()
        return TTRPCKeyValue(key: request.key, value: String(repeating: "x", count: Int(request.value) ?? 0))
    }
    return router
}

/// Counts calls that reached a handler.
final class CallCounter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// Outcomes counted by name, and the values that were acknowledged.
final class Tally: Sendable {
    private let state = Mutex<(counts: [String: Int], acknowledged: [String])>(([:], []))
    func count(_ outcome: String) { state.withLock { $0.counts[outcome, default: 0] += 1 } }
    func acknowledge(_ value: String) { state.withLock { $0.acknowledged.append(value) } }
    var counts: [String: Int] { state.withLock { $0.counts } }
    var acknowledged: [String] { state.withLock { $0.acknowledged } }
}

/// Calls Echo on `client` in a loop while `body` runs and checks that every
/// call succeeded and at least one ran: the server kept serving others.
func whileBystanderCalls<T: Sendable>(
    _ client: MarketplaceClient, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @Sendable () async throws -> T
) async throws -> T {
    let stop = Atomic<Bool>(false)
    let bystander = Task {
        var ok = 0
        var failures: [String] = []
        while !stop.load(ordering: .relaxed) {
            do {
                let reply: TTRPCKeyValue = try await client.unary(
                    service: "test.Echo", method: "Echo", request: TTRPCKeyValue(key: "bystander", value: "\(ok)"),
                    options: CallOptions(timeout: .seconds(5 * slowdown)))
                if reply.value == "\(ok)" { ok += 1 } else { failures.append("wrong answer \(reply)") }
            } catch {
                failures.append("\(error)")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return (ok, failures)
    }
    let result: T
    do {
        result = try await body()
    } catch {
        stop.store(true, ordering: .relaxed)
        _ = await bystander.value
        throw error
    }
    stop.store(true, ordering: .relaxed)
    let (ok, failures) = await bystander.value
    #expect(failures.isEmpty, "bystander calls failed: \(failures.prefix(3))", sourceLocation: sourceLocation)
    #expect(ok > 0, "no bystander call completed", sourceLocation: sourceLocation)
    return result
}

/// A deterministic generator (SplitMix64), so that a failure replays.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Protobuf wire format by hand, for payloads no generated encoder produces.
enum Wire {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }

    /// A length-delimited field (strings, bytes, messages).
    static func field(_ number: UInt64, _ bytes: [UInt8]) -> [UInt8] {
        varint(number << 3 | 2) + varint(UInt64(bytes.count)) + bytes
    }
}
