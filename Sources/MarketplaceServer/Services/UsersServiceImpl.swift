import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Users`: users across the platform.
struct UsersServiceImpl: UsersService {
    let directory: UserDirectory

    func getUser(_ request: GetUserRequest, context: RPCContext) async throws -> GetUserResponse {
        GetUserResponse(user: User(try await directory.user(id: request.userId)))
    }

    func findUserByEmail(_ request: FindUserByEmailRequest, context: RPCContext) async throws -> FindUserByEmailResponse {
        FindUserByEmailResponse(user: User(try await directory.user(email: request.email)))
    }

    func listUsers(_ request: ListUsersRequest, context: RPCContext) async throws -> ListUsersResponse {
        let page = try await directory.listUsers(pageSize: Int(request.pageSize), pageToken: request.pageToken)
        return ListUsersResponse(users: page.items.map(User.init), nextPageToken: page.nextPageToken)
    }

    func listUserAccountUsers(_ request: ListUserAccountUsersRequest, context: RPCContext) async throws -> ListUserAccountUsersResponse {
        ListUserAccountUsersResponse(accountUsers: try await directory.memberships(userID: request.userId).map(AccountUser.init))
    }

    func deleteUser(_ request: DeleteUserRequest, context: RPCContext) async throws -> DeleteUserResponse {
        DeleteUserResponse(user: User(try await directory.deleteUser(id: request.userId, actor: context.actor)))
    }
}
