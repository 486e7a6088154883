import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

extension DaemonOperationsTests {
    @Suite("Observability of the real daemon: per-call logs, JSON logs, Prometheus metrics", .serialized)
    struct DaemonObservabilityTests {
        @Test("Metrics over a Unix socket: call counters, latency, connections, group commit, hashing move")
        func metricsOverUnixSocket() async throws {
            let directory = try TemporaryDirectory(prefix: "metrics")
            defer { directory.remove() }
            let socket = directory.appending("s.sock"), metrics = directory.appending("metrics.sock")
            let daemon = try DaemonProcess(
                socketPath: socket, dataDirectory: directory.appending("data"), logPath: directory.appending("d.log"),
                arguments: ["--metrics-listen", metrics])
            try #require(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
            let before = try await curl("http://localhost/metrics", unixSocket: metrics)
            #expect(before.status == 0, "\(before.body)")
            let health = ["method=\"marketplace.health.v1.Health/Check\"", "code=\"OK\""]
            let healthBefore = sample(before.body, "marketplace_rpc_calls_total", health) ?? 0

            let client = MarketplaceClient(socketPath: socket)
            for _ in 0..<3 { _ = try await client.health.check() }
            let f = Fixture(client: client)
            let (account, _, staff) = try await f.accountWithGroups()
            let link = try await f.invite(account, "metrics@example.com", groups: [staff]).invitationLink
            _ = try await f.accept(link)
            await expectRPCError(.invalidArgument) {
                try await client.accounts.getAccount(.init(accountId: "no-such-account"))
            }

            let after = try await curl("http://localhost/metrics", unixSocket: metrics)
            #expect(after.status == 0)
            let text = after.body
            #expect((sample(text, "marketplace_rpc_calls_total", health) ?? 0) >= healthBefore + 3, "\(text)")
            #expect(sample(text, "marketplace_rpc_calls_total", ["code=\"INVALID_ARGUMENT\""]) == 1, "\(text)")
            #expect((sample(text, "marketplace_rpc_call_duration_seconds_count", [health[0]]) ?? 0) >= 3, "\(text)")
            #expect(text.contains("marketplace_rpc_call_duration_seconds_bucket{"), "\(text)")
            #expect((sample(text, "marketplace_rpc_connections") ?? 0) >= 1, "\(text)")
            #expect(sample(text, "marketplace_rpc_calls_in_flight") == 0, "\(text)")
            #expect((sample(text, "marketplace_storage_group_commit_batch_size_count") ?? 0) >= 3, "\(text)")
            #expect(sample(text, "marketplace_password_hashing_queue_depth") != nil, "\(text)")
            // No account is large enough for the in-memory member search.
            #expect(sample(text, "marketplace_storage_member_search_accounts") == 0, "\(text)")
            #expect(sample(text, "marketplace_storage_member_search_bytes") == 0, "\(text)")
            let missing = try await curl("http://localhost/nothing", unixSocket: metrics)
            #expect(missing.status != 0, "a path other than /metrics answered")
            await client.close()
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0)
            #expect(!exists(metrics), "the metrics socket was left behind")
        }

        @Test("Metrics on loopback TCP (port 0: the log says which); a non-loopback address is refused")
        func metricsOverTCP() async throws {
            let directory = try TemporaryDirectory(prefix: "metricst")
            defer { directory.remove() }
            let socket = directory.appending("s.sock")
            let daemon = try DaemonProcess(
                socketPath: socket, dataDirectory: directory.appending("data"), logPath: directory.appending("d.log"),
                arguments: ["--metrics-listen", "127.0.0.1:0"])
            try #require(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
            let line = try #require(daemon.logLines(containing: "serving metrics").first, "\(daemon.log)")
            let address = try #require(line.split(separator: " ").first { $0.hasPrefix("metrics=") }).dropFirst("metrics=".count)
            let scraped = try await curl("http://\(address)/metrics")
            #expect(scraped.status == 0, "\(scraped.body)")
            #expect(scraped.body.contains("marketplace_rpc_calls_total"), "\(scraped.body)")
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0)

            let refused = try DaemonProcess(
                socketPath: socket, dataDirectory: directory.appending("data2"), logPath: directory.appending("r.log"),
                arguments: ["--metrics-listen", "0.0.0.0:9464"])
            #expect(await refused.waitForExit(seconds: 20) == 64, "\(refused.log)")
            #expect(refused.log.contains("loopback"), "\(refused.log)")
        }

        @Test("Calls refused before routing get a call line and a count: unknown service or method, bad envelope, even stream, oversized frame")
        func refusedBeforeRouting() async throws {
            let directory = try TemporaryDirectory(prefix: "refused")
            defer { directory.remove() }
            let socket = directory.appending("s.sock"), metrics = directory.appending("metrics.sock")
            let daemon = try DaemonProcess(
                socketPath: socket, dataDirectory: directory.appending("data"), logPath: directory.appending("d.log"),
                arguments: ["--log-format", "json", "--metrics-listen", metrics])
            try #require(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
            let health = "marketplace.health.v1.Health"
            let raw = try RawConnection(path: socket, timeout: 20)
            try await raw.sendRequest(streamID: 1, service: "no.such.Service", method: "Nope")
            // A name with a line break must not forge a log line.
            try await raw.sendRequest(streamID: 3, service: health, method: "Nope\n{\"msg\":\"forged\"}")
            try await raw.sendFrame(streamID: 5, body: [0xFF, 0xFF, 0xFF])
            try await raw.sendRequest(streamID: 2, service: health, method: "Check")
            var codes: [UInt32: Int32] = [:]
            for _ in 0..<4 {
                let frame = try await raw.readFrame()
                codes[frame.streamID] = try frame.response().status?.code ?? 0
            }
            #expect(codes == [1: StatusCode.unimplemented.rawValue, 3: StatusCode.unimplemented.rawValue,
                              5: StatusCode.invalidArgument.rawValue, 2: StatusCode.invalidArgument.rawValue])
            // Oversized: refused on its header (the body is never read).
            let big = try RawConnection(path: socket, timeout: 20)
            try await big.sendFrame(streamID: 7, body: [], declaredLength: 5 << 20)
            #expect(try await big.readFrame().response().status?.code == StatusCode.resourceExhausted.rawValue)

            try #require(await daemon.waitForLog { $0.components(separatedBy: "refused before routing").count - 1 >= 5 }, "\(daemon.log)")
            let lines = daemon.log.split(separator: "\n").map(String.init)
            let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(objects.count == lines.count, "a line is not JSON (forged?): \(lines)")
            #expect(!objects.contains { $0["msg"] as? String == "forged" }, "a peer's method name forged a log line")
            let refused = objects.filter { ($0["msg"] as? String)?.hasSuffix("(refused before routing)") == true }
            func line(stream: Int) -> [String: Any]? { refused.first { $0["rpc.stream"] as? String == "\(stream)" } }
            let unknownService = try #require(line(stream: 1), "\(refused)")
            #expect(unknownService["rpc.method"] as? String == "no.such.Service/Nope")
            #expect(unknownService["code"] as? String == "UNIMPLEMENTED")
            #expect(unknownService["caller"] as? String == "none")
            for key in ["peer.uid", "duration_ms", "request_bytes", "response_bytes"] {
                #expect(unknownService[key] != nil, "the refused call's line lacks \(key): \(unknownService)")
            }
            #expect(unknownService["peer.uid"] as? String == "\(getuid())")
            let unknownMethod = try #require(line(stream: 3))
            #expect(unknownMethod["rpc.method"] as? String == health + "/Nope\\n{\\\"msg\\\":\\\"forged\\\"}", "\(unknownMethod)")
            #expect(line(stream: 5)?["rpc.method"] as? String == "-")
            #expect(line(stream: 5)?["code"] as? String == "INVALID_ARGUMENT")
            #expect(line(stream: 2)?["rpc.method"] as? String == health + "/Check")
            #expect(line(stream: 2)?["code"] as? String == "INVALID_ARGUMENT")
            let oversized = try #require(line(stream: 7))
            #expect(oversized["code"] as? String == "RESOURCE_EXHAUSTED")
            #expect(oversized["request_bytes"] as? String == "\(5 << 20)")

            let scraped = try await curl("http://localhost/metrics", unixSocket: metrics)
            #expect(sample(scraped.body, "marketplace_rpc_calls_refused_total", ["code=\"UNIMPLEMENTED\""]) == 2, "\(scraped.body)")
            #expect(sample(scraped.body, "marketplace_rpc_calls_refused_total", ["code=\"INVALID_ARGUMENT\""]) == 2, "\(scraped.body)")
            #expect(sample(scraped.body, "marketplace_rpc_calls_refused_total", ["code=\"RESOURCE_EXHAUSTED\""]) == 1, "\(scraped.body)")
            // Never by the peer's names (unbounded labels).
            #expect(!scraped.body.contains("no.such.Service"), "\(scraped.body)")
            _ = (raw, big)  // open until here
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0)
        }

        @Test("JSON logs: every line parses; the effective configuration and one line per call, with no secret")
        func jsonLogs() async throws {
            let directory = try TemporaryDirectory(prefix: "json")
            defer { directory.remove() }
            let socket = directory.appending("s.sock"), logPath = directory.appending("d.log")
            let daemon = try DaemonProcess(
                socketPath: socket, dataDirectory: directory.appending("data"), logPath: logPath,
                arguments: ["--log-format", "json", "--operator-uid", "4242"])
            try #require(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
            let client = MarketplaceClient(socketPath: socket)
            let f = Fixture(client: client)
            let (account, _, staff) = try await f.accountWithGroups()
            let email = "secret-person@example.com", password = "Very-Secret-Pa55word!"
            let link = try await f.invite(account, email, groups: [staff]).invitationLink
            _ = try await f.accept(link, password: password)
            let signIn = try await client.sessions.signIn(.init(email: email, password: password))
            await client.close()
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0)

            let lines = daemon.log.split(separator: "\n").map(String.init)
            var objects: [[String: Any]] = []
            for line in lines {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object != nil, "not a JSON object: \(line)")
                if let object { objects.append(object) }
            }
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/jq") {
                let jq = try await runProcess("/usr/bin/jq", ["-e", "-s", "length", logPath])
                #expect(jq.status == 0, "jq cannot read the log: \(jq.stderr)")
            }
            let configuration = try #require(objects.first { $0["msg"] as? String == "effective configuration" })
            for key in ["socket", "database", "key_file", "operator_uids", "operator_gids", "max_connections", "max_calls_per_connection", "shutdown_grace"] {
                #expect(configuration[key] != nil, "effective configuration lacks \(key)")
            }
            #expect((configuration["operator_uids"] as? String)?.contains("4242") == true)
            let calls = objects.filter { $0["rpc.method"] != nil && $0["code"] != nil }
            let invite = try #require(calls.first { ($0["rpc.method"] as? String)?.hasSuffix("AccountUsers/InviteUser") == true }, "\(lines)")
            #expect(invite["caller"] as? String == "operator")
            #expect(invite["code"] as? String == "OK")
            for key in ["peer.uid", "duration_ms", "request_bytes", "response_bytes"] {
                #expect(invite[key] != nil, "the call line lacks \(key): \(invite)")
            }
            let signInLine = try #require(calls.first { ($0["rpc.method"] as? String)?.hasSuffix("SignIn") == true })
            #expect(signInLine["code"] as? String == "OK")
            let log = daemon.log
            #expect(!log.contains(password), "the password is in the log")
            #expect(!log.contains(email), "the email is in the log")
            #expect(!log.contains(token(of: link)), "the invitation token is in the log")
            #expect(!signIn.token.isEmpty && !log.contains(signIn.token), "the session token is in the log")
            #expect(log.contains("stopped: received SIGTERM"))
        }
    }
}
