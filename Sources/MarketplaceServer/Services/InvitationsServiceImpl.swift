import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Invitations`: the invitee's side, by token.
struct InvitationsServiceImpl: InvitationsService {
    let directory: UserDirectory

    func showInvitation(_ request: ShowInvitationRequest, context: RPCContext) async throws -> ShowInvitationResponse {
        ShowInvitationResponse(invitation: InvitationView(try await directory.showInvitation(token: request.token)))
    }

    func acceptInvitation(_ request: AcceptInvitationRequest, context: RPCContext) async throws -> AcceptInvitationResponse {
        let member = try await directory.acceptInvitation(
            token: request.token, firstName: request.firstName, lastName: request.lastName, phone: request.phone,
            password: request.password, acceptTerms: request.acceptTerms,
            signedInUserID: context.signedInUserID, peer: "uid:\(context.peer.uid)")
        return AcceptInvitationResponse(accountUser: AccountUser(member))
    }

    func declineInvitation(_ request: DeclineInvitationRequest, context: RPCContext) async throws -> DeclineInvitationResponse {
        DeclineInvitationResponse(invitation: InvitationView(try await directory.declineInvitation(token: request.token)))
    }
}
