import Foundation
import MarketplaceDomain
import Testing

extension Fixture {
    static let password = "Correct-Horse-9"

    /// Invites `email` to `account` with `groups` and accepts with `password`
    /// (a new login, or the existing login proving itself).
    @discardableResult
    func join(_ email: String, _ account: Account, _ groups: [Group], password: String = Fixture.password) async throws -> AccountUser {
        let invited = try await directory.invite(
            accountID: account.id, email: email, firstName: "Jane", lastName: "Doe", groupIDs: groups.map(\.id), actor: Fixture.admin, access: Fixture.operatorAccess)
        return try await directory.acceptInvitation(
            token: Fixture.token(of: invited.link), firstName: "Jane", lastName: "Doe", password: password, acceptTerms: true)
    }

    /// The stored session, read directly from the store.
    func storedSession(_ id: String) async throws -> SessionRecord? {
        try await store.read { r in try r.session(id: id) }
    }
}
