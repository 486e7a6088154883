import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Sessions`: sign in and out, and switch accounts.
struct SessionsServiceImpl: SessionsService {
    let directory: UserDirectory

    func signIn(_ request: SignInRequest, context: RPCContext) async throws -> SignInResponse {
        let signedIn = try await directory.signIn(
            email: request.email, password: request.password, peer: "uid:\(context.peer.uid)")
        return SignInResponse(
            token: signedIn.token, session: SessionInfo(signedIn.session), user: User(signedIn.user))
    }

    func signOut(_ request: SignOutRequest, context: RPCContext) async throws -> SignOutResponse {
        try await directory.signOut(sessionID: try context.requireUserSession().sessionID)
        return SignOutResponse()
    }

    func listMyAccounts(_ request: ListMyAccountsRequest, context: RPCContext) async throws -> ListMyAccountsResponse {
        let session = try context.requireUserSession()
        let accounts = try await directory.myAccounts(userID: session.userID)
        return ListMyAccountsResponse(accounts: accounts.map { mine in
            MyAccount(
                account: Account(mine.account), accountUserId: mine.accountUserID,
                status: MembershipStatus(mine.status), isAdministrator: mine.isAdministrator,
                isCurrent: mine.account.id == session.currentAccountID)
        })
    }

    func switchAccount(_ request: SwitchAccountRequest, context: RPCContext) async throws -> SwitchAccountResponse {
        let session = try context.requireUserSession()
        let switched = try await directory.switchAccount(sessionID: session.sessionID, accountID: request.accountId)
        return SwitchAccountResponse(session: SessionInfo(switched))
    }

    func whoAmI(_ request: WhoAmIRequest, context: RPCContext) async throws -> WhoAmIResponse {
        var response = WhoAmIResponse(peerUid: context.peer.uid)
        switch context.caller {
        case .anonymous:
            response.kind = .anonymous
        case .operator:
            response.kind = .operator
        case .service:
            response.kind = .service
        case .user(let session):
            response.kind = .user
            response.user = User(try await directory.profile(userID: session.userID))
            if let accountID = session.currentAccountID {
                // One of the user's own accounts: read as ListMyAccounts does.
                let mine = try await directory.myAccounts(userID: session.userID)
                response.currentAccount = mine.first { $0.account.id == accountID }.map { Account($0.account) }
            }
            response.session = SessionInfo(try await directory.session(id: session.sessionID))
        }
        return response
    }
}

extension SessionInfo {
    init(_ session: Session) {
        self.init(
            currentAccountId: session.currentAccountID ?? "", expiresAt: session.expiresAt,
            idleExpiresAt: session.idleExpiresAt)
    }
}
