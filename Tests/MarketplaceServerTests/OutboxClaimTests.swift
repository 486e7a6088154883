import Foundation
import MarketplaceClient
import MarketplaceDomain
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// Outbox/ClaimMessages and Outbox/ReportDeliveryFailure through the real
/// socket: leases, retries, permanent failures, and their errors. The clock is
/// moved by hand, so lease expiry and retry times are exact.
@Suite("Outbox: claims under a lease, and delivery failures")
struct OutboxClaimTests {
    func withOutbox(_ body: (MarketplaceClient, ManualWallClock, [String]) async throws -> Void) async throws {
        let clock = ManualWallClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        try await withUsersServer(configure: { $0.clock = clock }) { _, client in
            let fixture = Fixture(client: client)
            let (account, _, staff) = try await fixture.accountWithGroups("Acme")
            for index in 0..<3 { _ = try await fixture.invite(account, "p\(index)@example.com", groups: [staff], first: "Pia", last: "Nr\(index)") }
            let ids = try await client.outbox.listPendingMessages(.init()).messages.map(\.id)
            try await body(client, clock, ids)
        }
    }

    // contract: marketplace.users.v1.Outbox/ClaimMessages ORDER
    // contract: marketplace.users.v1.Outbox/ReportDeliveryFailure FAILED_PRECONDITION
    @Test("a claim holds its messages until the lease expires, then they are handed out again")
    func leases() async throws {
        try await withOutbox { client, clock, ids in
            let first = try await client.outbox.claimMessages(.init(limit: 2, leaseSeconds: 60))
            #expect(first.messages.map(\.id) == Array(ids.prefix(2)))
            #expect(first.claimId.hasPrefix("CLM-"))
            let message = try #require(first.messages.first)
            #expect(message.attempts == 1 && message.claimId == first.claimId && message.state == .pending)
            #expect(message.leaseExpiresAt == Date(timeIntervalSince1970: 1_800_000_060))
            // What templates need travels with the message.
            #expect(message.accountName == "Acme" && message.recipientFirstName == "Pia" && message.recipientLanguage == "en")
            #expect(message.invitationLink.hasPrefix("https://") && message.invitationExpiresAt != nil && !message.inviterName.isEmpty)

            let second = try await client.outbox.claimMessages(.init(limit: 5, leaseSeconds: 60))
            #expect(second.messages.map(\.id) == [ids[2]], "held messages are not handed out twice")
            #expect(second.claimId != first.claimId)
            #expect(try await client.outbox.claimMessages(.init(limit: 5, leaseSeconds: 60)).messages.isEmpty)
            // Claimed messages are still pending for ListPendingMessages.
            #expect(try await client.outbox.listPendingMessages(.init()).messages.count == 3)

            clock.advance(by: .seconds(59))
            #expect(try await client.outbox.claimMessages(.init(leaseSeconds: 60)).messages.isEmpty)
            clock.advance(by: .seconds(1))
            let again = try await client.outbox.claimMessages(.init(leaseSeconds: 60))
            #expect(again.messages.map(\.id) == ids, "every lease expired: all handed out again")
            #expect(again.messages.first?.attempts == 2)

            // A stale claim can no longer report a failure; marking sent works by id.
            await expectRPCError(.failedPrecondition, "is not held under claim") {
                try await client.outbox.reportDeliveryFailure(.init(messageId: ids[0], claimId: first.claimId, reason: "late"))
            }
            #expect(try await client.outbox.markMessagesSent(.init(messageIds: [ids[0]])).marked == 1)
            #expect(try await client.outbox.listPendingMessages(.init()).messages.map(\.id) == Array(ids.dropFirst()))
        }
    }

    // contract: marketplace.users.v1.Outbox/ReportDeliveryFailure
    @Test("a temporary failure releases the claim until the retry time; a permanent one is recorded and never handed out")
    func failures() async throws {
        try await withOutbox { client, clock, ids in
            let claim = try await client.outbox.claimMessages(.init(limit: 2, leaseSeconds: 300))
            let deferred = try await client.outbox.reportDeliveryFailure(.init(
                messageId: ids[0], claimId: claim.claimId, permanent: false, reason: "sendmail exited 75", retryAfterSeconds: 30))
            #expect(deferred.message?.state == .pending && deferred.message?.failureReason == "sendmail exited 75")
            #expect(deferred.message?.nextAttemptAt == Date(timeIntervalSince1970: 1_800_000_030) && deferred.message?.claimId == "")

            let failed = try await client.outbox.reportDeliveryFailure(.init(
                messageId: ids[1], claimId: claim.claimId, permanent: true, reason: "550 user unknown"))
            #expect(failed.message?.state == .failed && failed.message?.failedAt == Date(timeIntervalSince1970: 1_800_000_000))

            // Neither is claimable now (the third is).
            #expect(try await client.outbox.claimMessages(.init(limit: 5)).messages.map(\.id) == [ids[2]])
            clock.advance(by: .seconds(30))
            let retried = try await client.outbox.claimMessages(.init(limit: 5))
            #expect(retried.messages.map(\.id) == [ids[0]], "the retry time has come; the failed one never returns")
            #expect(retried.messages.first?.attempts == 2)

            // The failed one: listed only on request, with its reason; cannot be marked sent or failed again.
            #expect(!(try await client.outbox.listPendingMessages(.init()).messages.map(\.id).contains(ids[1])))
            let listed = try await client.outbox.listPendingMessages(.init(includeFailed: true)).messages
            #expect(listed.first { $0.id == ids[1] }?.failureReason == "550 user unknown")
            #expect(try await client.outbox.markMessagesSent(.init(messageIds: [ids[1]])).marked == 0)
            await expectRPCError(.failedPrecondition, "the message is failed") {
                try await client.outbox.reportDeliveryFailure(.init(messageId: ids[1], claimId: claim.claimId, permanent: true, reason: "again"))
            }
        }
    }

    // contract: marketplace.users.v1.Outbox/ClaimMessages INVALID_ARGUMENT
    // contract: marketplace.users.v1.Outbox/ReportDeliveryFailure INVALID_ARGUMENT NOT_FOUND
    @Test("bad requests are refused with the field named, changing nothing")
    func badRequests() async throws {
        try await withOutbox { client, _, ids in
            await expectRPCError(.invalidArgument, "limit") { try await client.outbox.claimMessages(.init(limit: 501)) }
            await expectRPCError(.invalidArgument, "lease_seconds") { try await client.outbox.claimMessages(.init(leaseSeconds: 3601)) }
            await expectRPCError(.invalidArgument, "lease_seconds") { try await client.outbox.claimMessages(.init(leaseSeconds: -1)) }
            let claim = try await client.outbox.claimMessages(.init(limit: 1))
            await expectRPCError(.invalidArgument, "message_id") {
                try await client.outbox.reportDeliveryFailure(.init(messageId: "MSG-1", claimId: claim.claimId, reason: "x"))
            }
            await expectRPCError(.invalidArgument, "claim_id") {
                try await client.outbox.reportDeliveryFailure(.init(messageId: ids[0], reason: "x"))
            }
            await expectRPCError(.invalidArgument, "reason") {
                try await client.outbox.reportDeliveryFailure(.init(messageId: ids[0], claimId: claim.claimId, reason: "  "))
            }
            await expectRPCError(.invalidArgument, "reason") {
                try await client.outbox.reportDeliveryFailure(.init(messageId: ids[0], claimId: claim.claimId, reason: String(repeating: "x", count: 1001)))
            }
            await expectRPCError(.invalidArgument, "retry_after_seconds") {
                try await client.outbox.reportDeliveryFailure(.init(messageId: ids[0], claimId: claim.claimId, reason: "x", retryAfterSeconds: 86_401))
            }
            await expectRPCError(.notFound, "no such outbox message") {
                try await client.outbox.reportDeliveryFailure(.init(messageId: "999999", claimId: claim.claimId, reason: "x"))
            }
            // Nothing changed: the claim still holds its message.
            let still = try #require(try await client.outbox.listPendingMessages(.init()).messages.first)
            #expect(still.claimId == claim.claimId && still.failureReason == "" && still.attempts == 1)
        }
    }
}
