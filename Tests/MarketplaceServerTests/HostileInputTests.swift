import Foundation
import MarketplaceClient
import MarketplaceRPC
import MarketplaceServer
import MarketplaceTestSupport
import Testing

private let accountUsers = "marketplace.users.v1.AccountUsers"
private let invitations = "marketplace.users.v1.Invitations"
private let health = "marketplace.health.v1.Health"

/// Hostile payloads and envelopes sent to the real users service: each is
/// refused with the right code and a short message (an error never reflects a
/// huge input back), and the service keeps answering.
@Suite("Hostile input to the users service")
struct HostileInputTests {
    /// Sends one raw request and returns its status, checking the answer is a
    /// response frame for that stream no larger than `maxAnswer`.
    private func call(
        _ raw: RawConnection, _ streamID: UInt32, _ service: String, _ method: String, payload: [UInt8],
        metadata: [(String, String)] = [], maxAnswer: Int = 16 << 10,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> TTRPCStatus {
        try await raw.send(requestFrame(streamID: streamID, service: service, method: method, payload: payload, metadata: metadata))
        let frame = try await raw.readFrame()
        #expect(frame.streamID == streamID && frame.type == 2, sourceLocation: sourceLocation)
        #expect(frame.body.count <= maxAnswer, "answer of \(frame.body.count) bytes", sourceLocation: sourceLocation)
        return try frame.response().status ?? TTRPCStatus()
    }

    private func stillServing(_ client: MarketplaceClient, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let status = try await client.health.check().status
        #expect(status == .serving, sourceLocation: sourceLocation)
    }

    @Test("strings that are not valid UTF-8, in a payload, the envelope or metadata, answer INVALID_ARGUMENT",
          arguments: [
            ("lone continuation byte", [0x61, 0x80, 0x62] as [UInt8]),
            ("truncated sequence", [0x61, 0xE2, 0x82]),
            ("overlong slash", [0xC0, 0xAF]),
            ("UTF-16 surrogate", [0xED, 0xA0, 0x80]),
            ("beyond U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
            ("0xFF", [0xFF, 0xFE]),
          ])
    func invalidUTF8(name: String, bad: [UInt8]) async throws {
        try await withUsersServer { server, client in
            let raw = try RawConnection(path: server.rpc.socketPath, timeout: 5 * slowdown)
            let email = Array("ada".utf8) + bad + Array("@example.com".utf8)
            let invite = Wire.field(1, Array("acc_x".utf8)) + Wire.field(2, email) + Wire.field(3, Array("Ada".utf8))
                + Wire.field(4, Array("L".utf8)) + Wire.field(6, Array("grp_x".utf8))
            var status = try await call(raw, 1, accountUsers, "InviteUser", payload: invite)
            #expect(status.code == StatusCode.invalidArgument.rawValue, "\(name): \(status)")
            #expect(status.message.contains("UTF-8"), "\(status.message)")

            let accept = Wire.field(1, Array("tok".utf8)) + Wire.field(5, Array("Str0ng!".utf8) + bad) + [0x30, 0x01]
            status = try await call(raw, 3, invitations, "AcceptInvitation", payload: accept)
            #expect(status.code == StatusCode.invalidArgument.rawValue, "\(name): \(status)")

            // The envelope itself: a service name and a metadata value.
            let badService = Wire.field(1, Array("marketplace.".utf8) + bad) + Wire.field(2, Array("Check".utf8))
            try await raw.send(RawConnection.header(length: UInt32(badService.count), streamID: 5) + badService)
            let frame = try await raw.readFrame()
            #expect(frame.streamID == 5)
            #expect(try frame.response().status?.code == StatusCode.invalidArgument.rawValue)
            let metadataEntry = Wire.field(1, Array("authorization".utf8)) + Wire.field(2, Array("Bearer ".utf8) + bad)
            let badMetadata = Wire.field(1, Array(health.utf8)) + Wire.field(2, Array("Check".utf8)) + Wire.field(5, metadataEntry)
            try await raw.send(RawConnection.header(length: UInt32(badMetadata.count), streamID: 7) + badMetadata)
            #expect(try await raw.readFrame().response().status?.code == StatusCode.invalidArgument.rawValue)

            // The same connection still works.
            #expect(try await call(raw, 9, health, "Check", payload: []).code == 0)
            // Nothing was written.
            #expect(try await client.users.listUsers(.init()).users.isEmpty)
            #expect(try await client.outbox.listPendingMessages(.init()).messages.isEmpty)
        }
    }

    @Test("huge metadata: 300,000 entries are served; a 3.9 MB token is refused with a short message")
    func hugeMetadata() async throws {
        try await withUsersServer { server, client in
            let raw = try RawConnection(path: server.rpc.socketPath, timeout: 20 * slowdown)
            let many = (0..<300_000).map { ("k\($0 % 10)", "v") }
            let start = ContinuousClock.now
            var status = try await call(raw, 1, health, "Check", payload: [], metadata: many)
            #expect(status.code == 0, "\(status)")
            let huge = [("authorization", "Bearer " + String(repeating: "A", count: 3_900_000))]
            status = try await call(raw, 3, accountUsers, "ListAccountUsers", payload: Wire.field(1, Array("acc_x".utf8)), metadata: huge)
            #expect(status.code == StatusCode.unauthenticated.rawValue, "\(status.code): \(status.message.prefix(200))")
            let repeated = (0..<100_000).map { _ in ("authorization", "Bearer x") }
            status = try await call(raw, 5, accountUsers, "ListAccountUsers", payload: Wire.field(1, Array("acc_x".utf8)), metadata: repeated)
            #expect(status.code == StatusCode.unauthenticated.rawValue, "\(status.code): \(status.message.prefix(200))")
            #expect(ContinuousClock.now - start < .seconds(underSanitizer ? 120 : 15))
            try await stillServing(client)
        }
    }

    @Test("a huge service or method name is refused UNIMPLEMENTED without echoing it back")
    func hugeNames() async throws {
        try await withUsersServer { server, client in
            let raw = try RawConnection(path: server.rpc.socketPath, timeout: 5 * slowdown)
            let name = String(repeating: "s", count: 2_000_000)
            var status = try await call(raw, 1, name, "Check", payload: [])
            #expect(status.code == StatusCode.unimplemented.rawValue)
            status = try await call(raw, 3, health, name, payload: [])
            #expect(status.code == StatusCode.unimplemented.rawValue)
            #expect(status.message.hasPrefix("unknown method sss"))
            // Huge field values are refused without being echoed either.
            let huge = Array(String(repeating: "a", count: 1_500_000).utf8)
            let invite = Wire.field(1, Array("acc_x".utf8)) + Wire.field(2, huge + Array("@example.com".utf8))
                + Wire.field(3, huge) + Wire.field(4, Array("L".utf8)) + Wire.field(6, Array("grp_x".utf8))
            status = try await call(raw, 5, accountUsers, "InviteUser", payload: invite)
            #expect([StatusCode.invalidArgument.rawValue, StatusCode.notFound.rawValue].contains(status.code), "\(status.code)")
            let accept = Wire.field(1, huge) + Wire.field(2, huge) + Wire.field(5, Array("Str0ng!pass".utf8)) + [0x30, 0x01]
            status = try await call(raw, 7, invitations, "AcceptInvitation", payload: accept)
            #expect([StatusCode.invalidArgument.rawValue, StatusCode.notFound.rawValue].contains(status.code), "\(status.code)")
            let signIn = Wire.field(1, huge) + Wire.field(2, huge)
            status = try await call(raw, 9, "marketplace.users.v1.Sessions", "SignIn", payload: signIn)
            #expect(status.code != 0 && status.code != StatusCode.internal.rawValue, "\(status.code)")
            try await stillServing(client)
        }
    }

    @Test("repeated and deeply nested fields: refused or ignored, never a crash, an INTERNAL or a hang")
    func repeatedAndNested() async throws {
        try await withUsersServer { server, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let raw = try RawConnection(path: server.rpc.socketPath, timeout: 20 * slowdown)
            let base = Wire.field(1, Array(acme.id.utf8)) + Wire.field(3, Array("Ada".utf8)) + Wire.field(4, Array("L".utf8))

            // 200,000 group ids: refused by validation, quickly.
            var payload = base + Wire.field(2, Array("ada@example.com".utf8))
            for i in 0..<200_000 { payload += Wire.field(6, Array("grp_\(i)".utf8)) }
            var status = try await call(raw, 1, accountUsers, "InviteUser", payload: payload)
            #expect([StatusCode.invalidArgument.rawValue, StatusCode.notFound.rawValue].contains(status.code), "\(status)")

            // A singular field repeated 100,000 times: the last one wins, as protobuf says.
            payload = base + Wire.field(6, Array(staff.id.utf8))
            for i in 0..<100_000 { payload += Wire.field(2, Array("p\(i)@example.com".utf8)) }
            status = try await call(raw, 3, accountUsers, "InviteUser", payload: payload)
            #expect(status.code == 0, "\(status)")
            let last = try #require(try await client.users.findUserByEmail(.init(email: "p99999@example.com")).user)
            #expect(last.email == "p99999@example.com")

            // An unknown field nested 50,000 messages deep is skipped whole.
            var nested: [UInt8] = Wire.field(1, Array("x".utf8))
            for _ in 0..<50_000 { nested = Wire.field(15, nested) }
            status = try await call(raw, 5, health, "Check", payload: nested)
            #expect(status.code == 0, "\(status)")
            // 100,000 nested start-group tags (a wire type proto3 never uses).
            status = try await call(raw, 7, health, "Check", payload: [UInt8](repeating: 0x0B, count: 100_000))
            #expect(status.code == StatusCode.invalidArgument.rawValue, "\(status)")
            // A length prefix larger than the payload, and a varint that never ends.
            status = try await call(raw, 9, accountUsers, "InviteUser", payload: [0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x61])
            #expect(status.code == StatusCode.invalidArgument.rawValue, "\(status)")
            status = try await call(raw, 11, accountUsers, "InviteUser", payload: [0x10] + [UInt8](repeating: 0xFF, count: 64))
            #expect(status.code == StatusCode.invalidArgument.rawValue, "\(status)")
            try await stillServing(client)
        }
    }
}
