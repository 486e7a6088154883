import Foundation
import MarketplaceClient
import MarketplaceRPC
import MarketplaceServer
import MarketplaceTestSupport
import Synchronization
import Testing

private final class Counter: Sendable {
    private let value = Mutex(0)
    @discardableResult func next() -> Int { value.withLock { $0 += 1; return $0 } }
    var count: Int { value.withLock { $0 } }
}

/// Methods for the client's behaviour: a call held at a gate, a method that
/// answers UNAVAILABLE a given number of times, and an echo of metadata.
private func resilienceRouter(started: Latch, gate: Latch, flaky: Counter, failures: Int = 2) -> RPCRouter {
    var router = RPCRouter()
    router.register(service: "test.Client", method: "Held") { (request: TTRPCKeyValue, _) in
        started.open()
        await gate.wait()
        return request
    }
    router.register(service: "test.Client", method: "Flaky") { (request: TTRPCKeyValue, _) in
        if flaky.next() <= failures { throw RPCError(.unavailable, "not yet") }
        return request
    }
    router.register(service: "test.Client", method: "Metadata") { (request: TTRPCKeyValue, context) in
        TTRPCKeyValue(key: request.value, value: context.metadata.values(for: request.value).joined(separator: ","))
    }
    return router
}

/// Records the order interceptors ran in, and the attempts of each answer.
private final class Trace: Sendable {
    private let state = Mutex<[String]>([])
    func add(_ entry: String) { state.withLock { $0.append(entry) } }
    var entries: [String] { state.withLock { $0 } }
}

private struct Tracing: ClientInterceptor {
    let name: String
    let trace: Trace

    func intercept(
        _ call: ClientCall, next: (ClientCall) async throws(RPCError) -> ClientResponse
    ) async throws(RPCError) -> ClientResponse {
        trace.add("\(name) > \(call.method)")
        do {
            let response = try await next(call)
            trace.add("\(name) < \(call.method) attempts=\(response.attempts)")
            return response
        } catch {
            trace.add("\(name) ! \(call.method) \(error.code.name)")
            throw error
        }
    }
}

@Suite("Client: cancellation, wait-for-ready, retries, interceptors")
struct ClientResilienceTests {
    @Test("cancelling the calling task ends a call in flight at once with CANCELLED")
    func cancellation() async throws {
        let started = Latch(), gate = Latch()
        try await withRPCServer(router: resilienceRouter(started: started, gate: gate, flaky: Counter())) { _, client in
            let call = Task { () async throws(RPCError) -> TTRPCKeyValue in
                try await client.unary(
                    service: "test.Client", method: "Held", request: TTRPCKeyValue(key: "k"),
                    options: CallOptions(timeout: .seconds(20)))
            }
            await started.wait()  // the server is running the call
            call.cancel()
            // The gate stays closed: the answer can only be the cancellation.
            let result = await call.result
            if case .failure(let error) = result {
                #expect(error as? RPCError == RPCError(.cancelled, "test.Client/Held: the calling task was cancelled"))
            } else {
                Issue.record("a cancelled call succeeded: \(result)")
            }
            gate.open()
            // The connection is still good for other calls.
            let reply: TTRPCKeyValue = try await client.unary(
                service: "test.Client", method: "Held", request: TTRPCKeyValue(key: "again"))
            #expect(reply.key == "again")
        }
    }

    @Test("a task cancelled before the call never sends it")
    func cancelledBeforehand() async throws {
        let started = Latch(), gate = Latch()
        gate.open()
        try await withRPCServer(router: resilienceRouter(started: started, gate: gate, flaky: Counter())) { _, client in
            let call = Task { () async throws(RPCError) -> TTRPCKeyValue in
                withUnsafeCurrentTask { $0?.cancel() }
                return try await client.unary(service: "test.Client", method: "Held", request: TTRPCKeyValue())
            }
            let result = await call.result
            #expect((try? result.get()) == nil)
            if case .failure(let error) = result { #expect((error as? RPCError)?.code == .cancelled, "\(error)") }
        }
    }

    @Test("UNAVAILABLE is retried with backoff for idempotent methods, never for others")
    func retriesOnlyIdempotent() async throws {
        let flaky = Counter()
        let trace = Trace()
        try await withRPCServer(router: resilienceRouter(started: Latch(), gate: Latch(), flaky: flaky)) { _, base in
            let client = MarketplaceClient(
                socketPath: base.socketPath, interceptors: [Tracing(name: "t", trace: trace)])
            defer { Task { await client.close() } }
            let read: TTRPCKeyValue = try await client.unary(
                service: "test.Client", method: "Flaky", request: TTRPCKeyValue(key: "read"), idempotency: .noSideEffects)
            #expect(read.key == "read")
            #expect(flaky.count == 3)
            #expect(trace.entries.last == "t < Flaky attempts=3")

            let other = Counter()
            try await withRPCServer(router: resilienceRouter(started: Latch(), gate: Latch(), flaky: other)) { _, plain in
                do {
                    let _: TTRPCKeyValue = try await plain.unary(
                        service: "test.Client", method: "Flaky", request: TTRPCKeyValue())
                    Issue.record("a flaky call succeeded")
                } catch {
                    #expect((error as? RPCError)?.code == .unavailable)
                }
                #expect(other.count == 1, "a method not marked idempotent is sent once")
                // RetryPolicy.none turns retries off for idempotent methods too.
                do {
                    let _: TTRPCKeyValue = try await plain.unary(
                        service: "test.Client", method: "Flaky", request: TTRPCKeyValue(),
                        options: CallOptions(retryPolicy: RetryPolicy.none), idempotency: .idempotent)
                    Issue.record("a flaky call succeeded")
                } catch {
                    #expect((error as? RPCError)?.code == .unavailable)
                }
                #expect(other.count == 2)
            }
        }
    }

    @Test("backoff grows exponentially to its cap, with jitter within half of it")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 10, initialBackoff: .milliseconds(100), maxBackoff: .seconds(1))
        #expect(policy.backoff(beforeRetry: 1) == .milliseconds(100))
        #expect(policy.backoff(beforeRetry: 2) == .milliseconds(200))
        #expect(policy.backoff(beforeRetry: 4) == .milliseconds(800))
        #expect(policy.backoff(beforeRetry: 5) == .seconds(1))
        for retry in 1...6 {
            let delay = policy.delay(beforeRetry: retry), backoff = policy.backoff(beforeRetry: retry)
            #expect(delay >= backoff / 2 && delay <= backoff)
        }
    }

    @Test("interceptors run in order around every call and can add metadata (a bearer token)")
    func interceptors() async throws {
        let trace = Trace()
        try await withRPCServer(router: resilienceRouter(started: Latch(), gate: Latch(), flaky: Counter())) { _, base in
            let client = MarketplaceClient(
                socketPath: base.socketPath,
                interceptors: [
                    Tracing(name: "outer", trace: trace),
                    MetadataInterceptor { call in ["authorization": "Bearer for-\(call.method)"] },
                    Tracing(name: "inner", trace: trace),
                ])
            defer { Task { await client.close() } }
            let reply: TTRPCKeyValue = try await client.unary(
                service: "test.Client", method: "Metadata", request: TTRPCKeyValue(value: "authorization"))
            #expect(reply.value == "Bearer for-Metadata")
            #expect(trace.entries == [
                "outer > Metadata", "inner > Metadata", "inner < Metadata attempts=1", "outer < Metadata attempts=1",
            ])
        }
    }

    @Test("waitForReady waits for a socket that comes up within the deadline; without it the call fails at once")
    func waitForReady() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let socket = directory.appending("later.sock")
        let client = MarketplaceClient(socketPath: socket)
        // Without waitForReady: UNAVAILABLE at once, with the socket error as its cause.
        do {
            _ = try await client.health.check()
            Issue.record("a call without a server succeeded")
        } catch {
            #expect(error.code == .unavailable)
            #expect((error.cause as? ConnectError)?.reason == .noSocket, "cause: \(String(describing: error.cause))")
        }
        // With it and a short deadline: DEADLINE_EXCEEDED that says it waited.
        do {
            _ = try await client.health.check(options: CallOptions(timeout: .milliseconds(300), waitForReady: true))
            Issue.record("a call without a server succeeded")
        } catch {
            #expect(error.code == .deadlineExceeded)
            #expect(error.message.contains("not ready"), "\(error.message)")
        }
        // With it: the call waits until the server starts.
        let waiting = Task { () async throws(RPCError) -> HealthCheckResponse in
            try await client.health.check(options: CallOptions(timeout: .seconds(60), waitForReady: true))
        }
        var configuration = UsersServerConfiguration(socketPath: socket, dataDirectory: directory.appending("data"))
        configuration.passwordParameters = .minimum
        let storage = try await TestStorage.forDataDirectory(configuration.dataDirectory)
        configuration.openStore = { _ in try await storage.openStore() }
        let server = try await UsersServer.start(configuration: configuration, logger: silentLogger)
        let answer = await waiting.result
        #expect((try? answer.get())?.status == .serving, "\(answer)")
        await client.close()
        await server.shutdownGracefully()
        await storage.remove()
    }

    @Test("a daemon restarted mid-run: waitForReady and retried reads ride it out, the client reconnects")
    func daemonRestart() async throws {
        let directory = try TemporaryDirectory(prefix: "restart")
        defer { directory.remove() }
        let socket = directory.appending("s.sock"), data = directory.appending("data"), log = directory.appending("d.log")
        var daemon = try DaemonProcess(socketPath: socket, dataDirectory: data, logPath: log)
        #expect(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
        let client = MarketplaceClient(socketPath: socket)
        let account = try await client.accounts.createAccount(.init(name: "Restart Ltd", type: .client)).requiredAccount
        daemon.signal(SIGKILL)
        _ = await daemon.waitForExit()

        // Down: a call that does not wait fails with UNAVAILABLE.
        await #expect(throws: RPCError.self) {
            _ = try await client.accounts.getAccount(.init(accountId: account.id), options: CallOptions(retryPolicy: RetryPolicy.none))
        }
        let waiting = Task { () async throws(RPCError) -> GetAccountResponse in
            try await client.accounts.getAccount(
                .init(accountId: account.id), options: CallOptions(timeout: .seconds(60), waitForReady: true))
        }
        let retried = Task { () async throws(RPCError) -> ListAccountsResponse in
            try await client.accounts.listAccounts(
                .init(), options: CallOptions(
                    timeout: .seconds(60),
                    retryPolicy: RetryPolicy(maxAttempts: 1_000, initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(200))))
        }
        daemon = try DaemonProcess(socketPath: socket, dataDirectory: data, logPath: log)
        let got = await waiting.result
        #expect((try? got.get())?.account?.name == "Restart Ltd", "\(got)")
        let listed = await retried.result
        #expect((try? listed.get())?.accounts.map(\.id) == [account.id], "\(listed)")
        // The same client keeps working, on a new connection.
        #expect(try await client.health.check().status == .serving)
        await client.close()
        daemon.signal(SIGTERM)
        _ = await daemon.waitForExit()
    }

    @Test("required accessors return a guaranteed sub-message or throw INTERNAL naming it")
    func requiredAccessors() throws {
        let account = Account(id: "ACC-1234-5678", name: "A")
        #expect(try CreateAccountResponse(account: account).requiredAccount == account)
        #expect(throws: RPCError(.internal, "marketplace.users.v1.CreateAccountResponse: the answer has no account, which the contract guarantees")) {
            try CreateAccountResponse().requiredAccount
        }
    }
}
