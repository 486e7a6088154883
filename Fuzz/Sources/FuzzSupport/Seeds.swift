import Foundation
import MarketplaceClient
import MarketplaceRPC
import NIOCore

/// Seed inputs for the fuzz targets, built from real messages with the same
/// encoders the client and server use. `Scripts/fuzz --write-seeds` writes them
/// to `Fuzz/Corpus/`, where they are committed.
public enum Seeds {
    /// Real request payloads, each with the message type it belongs to.
    public static var messages: [any ProtoMessage] {
        let at = Date(timeIntervalSince1970: 1_800_000_000.25)
        var user = User()
        user.id = "usr_0123456789abcdef"; user.firstName = "Ada"; user.lastName = "Lovelace"
        user.email = "ada@example.com"; user.phone = "+44 20 7946 0000"; user.language = "en"; user.locale = "en-GB"
        user.status = .active; user.hasPassword = true; user.createdAt = at; user.updatedAt = at; user.lastSignInAt = at
        var member = AccountUser()
        member.id = "au_0123456789abcdef"; member.accountId = "acc_0123456789abcdef"; member.user = user
        member.status = .invited; member.groups = [GroupRef(), GroupRef()]
        member.groups[0].id = "grp_1"; member.groups[0].name = "Administrators"; member.groups[1].id = "grp_2"
        member.invitedAt = at; member.invitationExpiresAt = at.addingTimeInterval(7 * 86_400); member.invitedBy = "operator"
        var invite = InviteUserRequest()
        invite.accountId = "acc_0123456789abcdef"; invite.email = "ada@example.com"; invite.firstName = "Ada"
        invite.lastName = "Lovelace"; invite.phone = "+1 555 0100"; invite.groupIds = ["grp_1", "grp_2"]
        var invited = InviteUserResponse()
        invited.accountUser = member; invited.invitationLink = "https://marketplace.example/invitations/tok"
        var accept = AcceptInvitationRequest()
        accept.token = String(repeating: "A", count: 43); accept.firstName = "Ada"; accept.lastName = "Lovelace"
        accept.password = "Str0ng!pass"; accept.acceptTerms = true
        var list = ListAccountUsersRequest()
        list.accountId = "acc_1"; list.statuses = [.active, .invited, .init(rawValue: 99)]; list.query = "ada"
        list.sort = .email; list.descending = true; list.pageSize = 50; list.pageToken = "page-token"
        var listed = ListAccountUsersResponse()
        listed.accountUsers = [member, member]; listed.nextPageToken = "next"
        var group = CreateGroupRequest()
        group.accountId = "acc_1"; group.name = "Staff"; group.permissions = ["users.manage", "billing.read"]
        var signIn = SignInRequest()
        signIn.email = "ada@example.com"; signIn.password = "Str0ng!pass"
        var update = UpdateAccountUserGroupsRequest()
        update.accountUserId = "au_1"; update.groupIds = ["grp_1"]
        var view = InvitationView()
        view.accountId = "acc_1"; view.accountName = "Acme"; view.inviterName = "Op"; view.email = "ada@example.com"
        view.expiresAt = at; view.state = .pending
        var outbox = OutboxMessage()
        outbox.id = "1"; outbox.kind = .invitation; outbox.recipientEmail = "ada@example.com"; outbox.subject = "Join"
        outbox.body = "Hello {{link}}"; outbox.accountUserId = "au_1"; outbox.createdAt = at
        var event = AuditEvent()
        event.id = "7"; event.accountId = "acc_1"; event.actor = "operator"; event.action = "invite"; event.occurredAt = at
        var health = HealthCheckResponse()
        health.status = .serving; health.version = "0.1.0"
        return [invite, invited, accept, list, listed, group, signIn, update, view, outbox, event, user, member, health]
    }

    /// Seeds for FuzzPayloads: a byte naming the type (its index in
    /// `allMessageTypes`), then the payload. Every type gets its empty message;
    /// the types above also a filled one.
    public static var payloadInputs: [[UInt8]] {
        var inputs: [[UInt8]] = []
        for (index, entry) in allMessageTypes.enumerated() {
            inputs.append([UInt8(index)] + entry.type.init().serializedBytes())
        }
        for message in messages {
            guard let index = allMessageTypes.firstIndex(where: { $0.type == type(of: message) }) else { continue }
            inputs.append([UInt8(index)] + message.serializedBytes())
        }
        return inputs
    }

    /// Seeds for FuzzFrames: two control bytes (chunk size, body limit), then a
    /// byte stream of real request and response frames as the client and the
    /// server write them.
    public static var frameInputs: [[UInt8]] {
        let allocator = ByteBufferAllocator()
        var metadata = Metadata()
        metadata.add("authorization", "Bearer " + String(repeating: "x", count: 43))
        metadata.add("x-trace", "1")
        var streams: [[UInt8]] = []
        var id: UInt32 = 1
        for message in messages {
            let frame = Envelope.requestFrame(
                streamID: id, service: "marketplace.users.v1.AccountUsers", method: "InviteUser",
                payload: message.serializedBytes(), timeout: .seconds(5), metadata: metadata, allocator: allocator)
            streams.append(Array(frame.readableBytesView))
            let response = Envelope.responseFrame(streamID: id, result: .success(message.serializedBytes()), allocator: allocator)
            streams.append(Array(response.readableBytesView))
            id += 2
        }
        let failure = Envelope.responseFrame(
            streamID: 3, result: .failure(RPCError(.resourceExhausted, "too many calls")), allocator: allocator)
        streams.append(Array(failure.readableBytesView))
        let health = Envelope.requestFrame(
            streamID: 1, service: "marketplace.health.v1.Health", method: "Check", payload: [],
            timeout: nil, metadata: Metadata(), allocator: allocator)
        streams.append(Array(health.readableBytesView))
        // Several frames back to back, and one declaring an oversized body.
        streams.append(streams[0] + streams[1] + streams[2])
        var oversized = ByteBuffer()
        oversized.writeFrame(streamID: 9, type: .request, body: [UInt8](repeating: 0x41, count: 80))
        streams.append(Array(oversized.readableBytesView) + streams[3])
        var inputs: [[UInt8]] = []
        for (i, stream) in streams.enumerated() {
            inputs.append([UInt8(i % 7), UInt8(i % 2)] + stream)
        }
        return inputs
    }

    /// Writes `inputs` as files named by index into `directory`.
    public static func write(_ inputs: [[UInt8]], to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (i, input) in inputs.enumerated() {
            let path = (directory as NSString).appendingPathComponent(String(format: "seed-%03d", i))
            try Data(input).write(to: URL(fileURLWithPath: path))
        }
    }
}

/// Stops the fuzzer with a message: libFuzzer records the input as a crash.
public func fuzzFailure(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fuzz property violated: \(message)\n".utf8))
    abort()
}

/// `LLVMFuzzerInitialize` body shared by the targets: with FUZZ_WRITE_SEEDS=DIR
/// in the environment, writes the target's seeds to DIR and exits.
public func writeSeedsIfAsked(_ inputs: @autoclosure () -> [[UInt8]]) {
    guard let directory = ProcessInfo.processInfo.environment["FUZZ_WRITE_SEEDS"], !directory.isEmpty else { return }
    do {
        try Seeds.write(inputs(), to: directory)
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("cannot write seeds to \(directory): \(error)\n".utf8))
        exit(1)
    }
}
