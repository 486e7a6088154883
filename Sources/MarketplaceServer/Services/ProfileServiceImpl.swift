import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Profile`: the signed-in user's own profile.
struct ProfileServiceImpl: ProfileService {
    let directory: UserDirectory

    func getProfile(_ request: GetProfileRequest, context: RPCContext) async throws -> GetProfileResponse {
        GetProfileResponse(user: User(try await directory.profile(userID: try context.requireUserSession().userID)))
    }

    func updateProfile(_ request: UpdateProfileRequest, context: RPCContext) async throws -> UpdateProfileResponse {
        let session = try context.requireUserSession()
        let known = ["first_name", "last_name", "phone", "language", "locale", "icon"]
        if let unknown = request.fields.first(where: { !known.contains($0) }) {
            throw RPCError(.invalidArgument, "fields: unknown field \"\(unknown)\"; expected some of \(known.joined(separator: ", "))")
        }
        let fields = Set(request.fields.isEmpty ? known : request.fields)
        let changes = ProfileChanges(
            firstName: fields.contains("first_name") ? request.firstName : nil,
            lastName: fields.contains("last_name") ? request.lastName : nil,
            phone: fields.contains("phone") ? request.phone : nil,
            language: fields.contains("language") ? request.language : nil,
            locale: fields.contains("locale") ? request.locale : nil,
            icon: fields.contains("icon") ? request.icon : nil)
        let user = try await directory.updateProfile(userID: session.userID, changes)
        return UpdateProfileResponse(user: User(user))
    }

    func changePassword(_ request: ChangePasswordRequest, context: RPCContext) async throws -> ChangePasswordResponse {
        let session = try context.requireUserSession()
        try await directory.changePassword(
            userID: session.userID, sessionID: session.sessionID,
            currentPassword: request.currentPassword, newPassword: request.newPassword, peer: "uid:\(context.peer.uid)")
        return ChangePasswordResponse()
    }
}
