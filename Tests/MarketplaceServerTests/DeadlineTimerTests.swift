import Foundation
import MarketplaceClient
import MarketplaceRPC
import MarketplaceServer
import MarketplaceTestSupport
import Synchronization
import Testing

/// A handler that ignores cancellation: it waits at this gate until the test
/// opens it, then notes whether its task had been cancelled meanwhile.
private final class StubbornCalls: Sendable {
    private let latch = Latch()
    private let counts = Mutex<(started: Int, finished: Int, sawCancellation: Int)>((0, 0, 0))

    func run() async {
        counts.withLock { $0.started += 1 }
        await latch.wait()
        let cancelled = Task.isCancelled
        counts.withLock {
            $0.finished += 1
            if cancelled { $0.sawCancellation += 1 }
        }
    }

    func open() { latch.open() }

    var started: Int { counts.withLock { $0.started } }
    var finished: Int { counts.withLock { $0.finished } }
    var sawCancellation: Int { counts.withLock { $0.sawCancellation } }
}

private func deadlineRouter(_ stubborn: StubbornCalls) -> RPCRouter {
    var router = RPCRouter()
    router.register(service: "test.Echo", method: "Stubborn") { (request: TTRPCKeyValue, _) in
        await stubborn.run()
        return request
    }
    router.register(service: "test.Echo", method: "Hang") { (request: TTRPCKeyValue, _) in
        try await Task.sleep(for: .seconds(3600))
        return request
    }
    router.register(service: "test.Echo", method: "Echo") { (request: TTRPCKeyValue, _) in request }
    return router
}

/// A call's deadline is one timer on its connection's event loop (no task
/// group per call): the first of the call's answer and the timer's
/// DEADLINE_EXCEEDED is written, exactly once; the timer cancels the call.
@Suite("Per-call deadlines: one timer on the connection's loop")
struct DeadlineTimerTests {
    @Test("a handler that ignores cancellation is answered DEADLINE_EXCEEDED on time, once, and its task is cancelled")
    func stubbornHandler() async throws {
        let stubborn = StubbornCalls()
        try await withRPCServer(router: deadlineRouter(stubborn)) { server, _ in
            let raw = try RawConnection(path: server.socketPath, timeout: 30 * slowdown)
            let start = ContinuousClock.now
            try await raw.sendRequest(
                streamID: 1, service: "test.Echo", method: "Stubborn", payload: TTRPCKeyValue(key: "late").serializedBytes(),
                timeoutNano: 200_000_000)
            let answer = try await raw.readFrame()
            #expect(answer.streamID == 1)
            #expect(try answer.response().status?.code == StatusCode.deadlineExceeded.rawValue)
            // Answered while the handler still runs (it waits for the gate).
            #expect(stubborn.started == 1)
            #expect(stubborn.finished == 0, "the answer waited for the handler")
            #expect(ContinuousClock.now - start < .seconds(20 * slowdown))
            stubborn.open()
            try await waitUntil(seconds: 10 * slowdown) { stubborn.finished == 1 }
            #expect(stubborn.sawCancellation == 1, "the deadline did not cancel the call's task")
            // The handler's late result is dropped: the next frame is the next call's.
            try await raw.sendRequest(
                streamID: 3, service: "test.Echo", method: "Echo", payload: TTRPCKeyValue(key: "next").serializedBytes())
            let next = try await raw.readFrame()
            #expect(next.streamID == 3, "stream \(next.streamID) was answered again after its deadline")
            #expect(try TTRPCKeyValue(serializedBytes: next.response().payload).key == "next")
        }
    }

    @Test("200 pipelined calls with deadlines, half answering and half hanging: each answered once with its own outcome")
    func mixedDeadlines() async throws {
        try await withRPCServer(router: deadlineRouter(StubbornCalls())) { server, _ in
            let raw = try RawConnection(path: server.socketPath, timeout: 30 * slowdown)
            let count = 200
            var bytes: [UInt8] = []
            for i in 0..<count {
                var request = TTRPCRequest(
                    service: "test.Echo", method: i % 2 == 0 ? "Echo" : "Hang",
                    payload: TTRPCKeyValue(key: "\(i)").serializedBytes(),
                    timeoutNano: i % 2 == 0 ? 3_600_000_000_000 : 50_000_000)
                request.metadata = []
                let body = request.serializedBytes()
                bytes += RawConnection.header(length: UInt32(body.count), streamID: UInt32(2 * i + 1)) + body
            }
            try await raw.send(bytes)
            var codes: [UInt32: Int32] = [:]
            for _ in 0..<count {
                let frame = try await raw.readFrame()
                #expect(codes[frame.streamID] == nil, "stream \(frame.streamID) answered twice")
                codes[frame.streamID] = try frame.response().status?.code ?? 0
            }
            for i in 0..<count {
                let expected = i % 2 == 0 ? StatusCode.ok.rawValue : StatusCode.deadlineExceeded.rawValue
                #expect(codes[UInt32(2 * i + 1)] == expected, "call \(i)")
            }
            // Nothing more arrives: a last call is the next frame.
            try await raw.sendRequest(
                streamID: UInt32(2 * count + 1), service: "test.Echo", method: "Echo",
                payload: TTRPCKeyValue(key: "last").serializedBytes())
            #expect(try await raw.readFrame().streamID == UInt32(2 * count + 1))
        }
    }
}
