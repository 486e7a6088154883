import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Changes`: the change feed.
struct ChangesServiceImpl: ChangesService {
    let directory: UserDirectory

    func listChanges(_ request: ListChangesRequest, context: RPCContext) async throws -> ListChangesResponse {
        guard (0...30).contains(request.waitSeconds) else {
            throw RPCError(.invalidArgument, "wait_seconds: must be 0..30 (got \(request.waitSeconds))")
        }
        let found = try await directory.changes(
            after: request.afterPosition, limit: Int(request.limit), wait: .seconds(Int(request.waitSeconds)),
            fromHead: request.fromHead)
        return ListChangesResponse(changes: found.changes.map(Change.init), position: found.position)
    }
}

extension Change {
    init(_ record: ChangeRecord) {
        self.init(
            position: record.position, kind: ChangeKind(record.kind), committedAt: record.committedAt,
            userId: record.userID ?? "", accountId: record.accountID ?? "", accountUserId: record.accountUserID ?? "",
            groupId: record.groupID ?? "", sessionId: record.sessionID ?? "")
    }
}

extension ChangeKind {
    init(_ kind: ChangeRecord.Kind) {
        switch kind {
        case .membership: self = .membership
        case .user: self = .user
        case .sessionEnded: self = .sessionEnded
        case .groupPermissions: self = .groupPermissions
        case .accountStatus: self = .accountStatus
        }
    }
}
