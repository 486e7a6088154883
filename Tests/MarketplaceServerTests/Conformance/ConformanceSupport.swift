import Foundation
import MarketplaceClient
import Testing

/// Shared set-up of the conformance tests: every test talks to the real server
/// through the client library, as a team writing contract tests in another
/// language would. Each promise a test checks is named by a contract marker
/// comment (`contract:` then `<package>.<Service>/<Rpc> [CODE|ORDER]`) above it
/// (docs/testing.md, "Conformance tests"; checked by Scripts/check-conformance).
enum Conformance {
    static let password = "Str0ng!pass"

    /// A user who joined `account` in `groups`, signed in: the membership and
    /// options that carry the session.
    static func signedIn(
        _ f: Fixture, _ account: Account, _ email: String, groups: [Group], first: String = "Ada", last: String = "Lovelace"
    ) async throws -> (member: AccountUser, options: CallOptions) {
        let invited = try await f.invite(account, email, groups: groups, first: first, last: last)
        let member = try #require(try await f.client.invitations.acceptInvitation(.init(
            token: token(of: invited.invitationLink), firstName: first, lastName: last, password: password, acceptTerms: true)).accountUser)
        let session = try await f.client.sessions.signIn(.init(email: email, password: password))
        return (member, .bearer(session.token))
    }

    /// Options with a bearer token no session has.
    static let unknownSession = CallOptions.bearer("ses_" + String(repeating: "A", count: 43))
}
