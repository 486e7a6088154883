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

    func updateGroup(_ request: UpdateGroupRequest, context: RPCContext) async throws -> UpdateGroupResponse {
        let known = ["name", "description", "permissions"]
        if let unknown = request.fields.first(where: { !known.contains($0) }) {
            throw RPCError(.invalidArgument, "fields: unknown field \"\(unknown)\"; expected some of \(known.joined(separator: ", "))")
        }
        let fields = Set(request.fields.isEmpty ? known : request.fields)
        let changes = GroupChanges(
            name: fields.contains("name") ? request.name : nil,
            description: fields.contains("description") ? request.description : nil,
            permissions: fields.contains("permissions") ? request.permissions : nil)
        let group = try await directory.updateGroup(
            id: request.groupId, changes, actor: context.actor, access: try context.accessRequirement())
        return UpdateGroupResponse(group: Group(group))
    }

    func deleteGroup(_ request: DeleteGroupRequest, context: RPCContext) async throws -> DeleteGroupResponse {
        try await directory.deleteGroup(id: request.groupId, actor: context.actor, access: try context.accessRequirement())
        return DeleteGroupResponse()
    }
}
