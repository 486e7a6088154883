import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Accounts`.
struct AccountsServiceImpl: AccountsService {
    let directory: UserDirectory

    func createAccount(_ request: CreateAccountRequest, context: RPCContext) async throws -> CreateAccountResponse {
        guard let type = request.type.domain else {
            throw RPCError(.invalidArgument, "type: must be ACCOUNT_TYPE_CLIENT, ACCOUNT_TYPE_VENDOR or ACCOUNT_TYPE_OPERATIONS")
        }
        let account = try await directory.createAccount(name: request.name, type: type, actor: context.actor)
        return CreateAccountResponse(account: Account(account))
    }

    func getAccount(_ request: GetAccountRequest, context: RPCContext) async throws -> GetAccountResponse {
        GetAccountResponse(account: Account(try await directory.account(id: request.accountId, access: try context.accessRequirement())))
    }

    func listAccounts(_ request: ListAccountsRequest, context: RPCContext) async throws -> ListAccountsResponse {
        let page = try await directory.listAccounts(pageSize: Int(request.pageSize), pageToken: request.pageToken)
        return ListAccountsResponse(accounts: page.items.map(Account.init), nextPageToken: page.nextPageToken)
    }

    func renameAccount(_ request: RenameAccountRequest, context: RPCContext) async throws -> RenameAccountResponse {
        let account = try await directory.renameAccount(
            id: request.accountId, name: request.name, actor: context.actor, access: try context.accessRequirement())
        return RenameAccountResponse(account: Account(account))
    }

    func disableAccount(_ request: DisableAccountRequest, context: RPCContext) async throws -> DisableAccountResponse {
        let account = try await directory.setAccountStatus(
            id: request.accountId, .disabled, actor: context.actor, access: try context.accessRequirement())
        return DisableAccountResponse(account: Account(account))
    }

    func enableAccount(_ request: EnableAccountRequest, context: RPCContext) async throws -> EnableAccountResponse {
        let account = try await directory.setAccountStatus(
            id: request.accountId, .active, actor: context.actor, access: try context.accessRequirement())
        return EnableAccountResponse(account: Account(account))
    }
}
