import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Access`: the access check of internal services.
struct AccessServiceImpl: AccessService {
    let directory: UserDirectory

    func checkAccess(_ request: CheckAccessRequest, context: RPCContext) async throws -> CheckAccessResponse {
        let check = try await directory.checkAccess(
            token: request.token, accountID: request.accountId.isEmpty ? nil : request.accountId,
            permissions: request.permissions, touch: request.touch)
        return CheckAccessResponse(check)
    }
}

extension CheckAccessResponse {
    init(_ check: AccessCheck) {
        self.init(
            allowed: check.allowed, reason: AccessDenialReason(check.denial), userId: check.userID ?? "",
            accountId: check.accountID ?? "", accountUserId: check.accountUserID ?? "",
            membershipStatus: check.status.map(MarketplaceProtos.MembershipStatus.init) ?? .unspecified,
            groups: check.groups.map { GroupRef(id: $0.id, name: $0.name) }, permissions: check.permissions,
            isAdministrator: check.isAdministrator, sessionExpiresAt: check.sessionExpiresAt,
            missingPermissions: check.missingPermissions)
    }
}

extension AccessDenialReason {
    init(_ denial: AccessCheck.Denial?) {
        switch denial {
        case nil: self = .unspecified
        case .noSession: self = .noSession
        case .sessionEnded: self = .sessionEnded
        case .notAMember: self = .notAMember
        case .membershipBlocked: self = .membershipBlocked
        case .membershipDisabled: self = .membershipDisabled
        case .membershipInvited: self = .membershipInvited
        case .accountDisabled: self = .accountDisabled
        case .permissionMissing: self = .permissionMissing
        }
    }
}
