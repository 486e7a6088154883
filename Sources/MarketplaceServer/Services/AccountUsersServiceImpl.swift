import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.AccountUsers`: the administrator's "Settings > Users".
struct AccountUsersServiceImpl: AccountUsersService {
    let directory: UserDirectory

    func inviteUser(_ request: InviteUserRequest, context: RPCContext) async throws -> InviteUserResponse {
        let invited = try await directory.invite(
            accountID: request.accountId, email: request.email, firstName: request.firstName,
            lastName: request.lastName, phone: request.phone, groupIDs: request.groupIds, actor: context.actor, access: try context.accessRequirement())
        return InviteUserResponse(accountUser: AccountUser(invited.accountUser), invitationLink: invited.link)
    }

    func listAccountUsers(_ request: ListAccountUsersRequest, context: RPCContext) async throws -> ListAccountUsersResponse {
        var statuses = Set<MarketplaceDomain.MembershipStatus>()
        for status in request.statuses {
            guard let domain = status.domain else {
                throw RPCError(.invalidArgument, "statuses: \(status.protoName) is not a membership status to filter by")
            }
            statuses.insert(domain)
        }
        guard let sort = request.sort.domain else {
            throw RPCError(.invalidArgument, "sort: unknown value \(request.sort.rawValue)")
        }
        let page = try await directory.listAccountUsers(
            accountID: request.accountId,
            AccountUserListRequest(
                statuses: statuses, groupID: request.groupId.isEmpty ? nil : request.groupId, query: request.query,
                sort: sort, descending: request.descending, pageSize: Int(request.pageSize),
                pageToken: request.pageToken),
            access: try context.accessRequirement())
        return ListAccountUsersResponse(accountUsers: page.items.map(AccountUser.init), nextPageToken: page.nextPageToken)
    }

    func getAccountUser(_ request: GetAccountUserRequest, context: RPCContext) async throws -> GetAccountUserResponse {
        GetAccountUserResponse(accountUser: AccountUser(try await directory.accountUser(id: request.accountUserId, access: try context.accessRequirement())))
    }

    func updateAccountUserGroups(
        _ request: UpdateAccountUserGroupsRequest, context: RPCContext
    ) async throws -> UpdateAccountUserGroupsResponse {
        let member = try await directory.setGroups(
            accountUserID: request.accountUserId, groupIDs: request.groupIds, actor: context.actor, access: try context.accessRequirement())
        return UpdateAccountUserGroupsResponse(accountUser: AccountUser(member))
    }

    func removeAccountUser(_ request: RemoveAccountUserRequest, context: RPCContext) async throws -> RemoveAccountUserResponse {
        let member = try await directory.remove(accountUserID: request.accountUserId, actor: context.actor, access: try context.accessRequirement())
        return RemoveAccountUserResponse(accountUser: AccountUser(member))
    }

    func getInvitationLink(_ request: GetInvitationLinkRequest, context: RPCContext) async throws -> GetInvitationLinkResponse {
        let invited = try await directory.invitationLink(accountUserID: request.accountUserId, access: try context.accessRequirement())
        return GetInvitationLinkResponse(invitationLink: invited.link, expiresAt: invited.accountUser.invitationExpiresAt)
    }

    func resendInvitation(_ request: ResendInvitationRequest, context: RPCContext) async throws -> ResendInvitationResponse {
        let invited = try await directory.resendInvitation(accountUserID: request.accountUserId, actor: context.actor, access: try context.accessRequirement())
        return ResendInvitationResponse(accountUser: AccountUser(invited.accountUser))
    }

    func renewInvitation(_ request: RenewInvitationRequest, context: RPCContext) async throws -> RenewInvitationResponse {
        let invited = try await directory.renewInvitation(accountUserID: request.accountUserId, actor: context.actor, access: try context.accessRequirement())
        return RenewInvitationResponse(accountUser: AccountUser(invited.accountUser), invitationLink: invited.link)
    }

    func revokeInvitation(_ request: RevokeInvitationRequest, context: RPCContext) async throws -> RevokeInvitationResponse {
        let member = try await directory.revokeInvitation(accountUserID: request.accountUserId, actor: context.actor, access: try context.accessRequirement())
        return RevokeInvitationResponse(accountUser: AccountUser(member))
    }

    func blockAccountUser(_ request: BlockAccountUserRequest, context: RPCContext) async throws -> BlockAccountUserResponse {
        let member = try await directory.block(
            accountUserID: request.accountUserId, reason: request.reason, actor: context.actor, access: try context.accessRequirement())
        return BlockAccountUserResponse(accountUser: AccountUser(member))
    }

    func unblockAccountUser(_ request: UnblockAccountUserRequest, context: RPCContext) async throws -> UnblockAccountUserResponse {
        let member = try await directory.unblock(accountUserID: request.accountUserId, actor: context.actor, access: try context.accessRequirement())
        return UnblockAccountUserResponse(accountUser: AccountUser(member))
    }
}
