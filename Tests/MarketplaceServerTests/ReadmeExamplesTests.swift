import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// The README's client examples run as written: the block between the
/// markers below is the README's, byte for byte (checked by `sameAsReadme`).
@Suite("README client examples")
struct ReadmeExamplesTests {
    @Test("the cancellation, wait-for-ready, retry and interceptor example runs against a real server")
    func clientExample() async throws {
        try await withUsersServer { server, client in
            // The example is about the client: it starts once the server has
            // answered SERVING (on PostgreSQL a loaded machine can make the
            // probe answer NOT_SERVING; the answer is then reused for a
            // second), and still expects SERVING itself.
            _ = await untilServing(client)
            try await Self.example(socketPath: server.configuration.rpc.socketPath)
        }
    }

    private static func example(socketPath: String) async throws {
        // README begin
        // Logs every call with how many attempts it took.
        struct LogCalls: ClientInterceptor {
            func intercept(
                _ call: ClientCall, next: (ClientCall) async throws(RPCError) -> ClientResponse
            ) async throws(RPCError) -> ClientResponse {
                let response = try await next(call)
                print("\(call.method): OK after \(response.attempts) attempt(s)")
                return response
            }
        }

        let service = MarketplaceClient(
            socketPath: socketPath, defaultOptions: CallOptions(timeout: .seconds(10)),
            interceptors: [LogCalls(), MetadataInterceptor { _ in ["x-trace-id": "trace-1"] }])

        // Wait for a restarting server, up to the deadline, instead of failing at once.
        let ready = try await service.health.check(options: CallOptions(timeout: .seconds(30), waitForReady: true))

        // A read: UNAVAILABLE is retried with backoff and jitter, here up to 10 attempts.
        let accounts = try await service.accounts.listAccounts(options: CallOptions(
            retryPolicy: RetryPolicy(maxAttempts: 10, initialBackoff: .milliseconds(50), maxBackoff: .seconds(2))))

        // Cancelling the task ends the call at once with CANCELLED.
        let call = Task { try await service.accounts.listAccounts() }
        call.cancel()
        do {
            _ = try await call.value
        } catch let error as RPCError where error.code == .cancelled {
            print("cancelled")
        }
        await service.close()
        // README end
        #expect(ready.status == .serving)
        _ = accounts
    }

    @Test("the example above is the README's, as written")
    func sameAsReadme() throws {
        let readme = try String(contentsOfFile: repositoryRoot + "/README.md", encoding: .utf8)
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let begin = try #require(source.range(of: "        // README begin\n"))
        let end = try #require(source.range(of: "        // README end\n"))
        let code = source[begin.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : String($0) }.joined(separator: "\n")
        #expect(readme.contains("```swift\n" + code + "```"), "README.md and ReadmeExamplesTests differ")
    }
}
