import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Groups`.
struct GroupsServiceImpl: GroupsService {
    let directory: UserDirectory

    func createGroup(_ request: CreateGroupRequest, context: RPCContext) async throws -> CreateGroupResponse {
        let group = try await directory.createGroup(
            accountID: request.accountId, name: request.name, description: request.description,
            permissions: request.permissions, isAdministrators: request.isAdministrators,
            isDefault: request.isDefault, actor: context.actor, access: try context.accessRequirement())
        return CreateGroupResponse(group: Group(group))
    }

    func getGroup(_ request: GetGroupRequest, context: RPCContext) async throws -> GetGroupResponse {
        GetGroupResponse(group: Group(try await directory.group(id: request.groupId, access: try context.accessRequirement())))
    }

    func listGroups(_ request: ListGroupsRequest, context: RPCContext) async throws -> ListGroupsResponse {
        let page = try await directory.listGroups(
            accountID: request.accountId, pageSize: Int(request.pageSize), pageToken: request.pageToken, access: try context.accessRequirement())
        return ListGroupsResponse(groups: page.items.map(Group.init), nextPageToken: page.nextPageToken)
    }
}
