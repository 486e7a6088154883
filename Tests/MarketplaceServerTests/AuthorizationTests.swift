import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// A world with two accounts and people in every role, signed in.
private struct World {
    let operatorClient: MarketplaceClient
    let a: Account, b: Account
    let aAdmins: Group, aStaff: Group, bStaff: Group
    /// Pending members to act on, one per account.
    let aTarget: AccountUser, bTarget: AccountUser
    let tokens: [Identity: String]

    enum Identity: String, CaseIterable {
        case `operator`, anonymous, adminA, memberA, adminAOnB, noAccount
    }

    static let password = "Str0ng!pass"

    static func make(_ client: MarketplaceClient) async throws -> World {
        let f = Fixture(client: client)
        let (a, aAdmins, aStaff) = try await f.accountWithGroups("A")
        let (b, _, bStaff) = try await f.accountWithGroups("B")
        _ = try await f.accept(try await f.invite(a, "admin@a.example", groups: [aAdmins]).invitationLink, password: password)
        _ = try await f.accept(try await f.invite(a, "member@a.example", groups: [aStaff]).invitationLink, password: password)
        let loner = try await f.accept(try await f.invite(b, "loner@example.com", groups: [bStaff]).invitationLink, password: password)
        _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: loner.id))
        let aTarget = try #require(try await f.invite(a, "target@a.example", groups: [aStaff]).accountUser)
        let bTarget = try #require(try await f.invite(b, "target@b.example", groups: [bStaff]).accountUser)
        var tokens: [Identity: String] = [:]
        for (identity, email) in [(Identity.adminA, "admin@a.example"), (.memberA, "member@a.example"), (.adminAOnB, "admin@a.example"), (.noAccount, "loner@example.com")] {
            tokens[identity] = try await client.sessions.signIn(.init(email: email, password: password)).token
        }
        return World(
            operatorClient: client, a: a, b: b, aAdmins: aAdmins, aStaff: aStaff, bStaff: bStaff,
            aTarget: aTarget, bTarget: bTarget, tokens: tokens)
    }

    func options(_ identity: Identity) -> CallOptions {
        guard let token = tokens[identity] else { return CallOptions() }
        return CallOptions(metadata: ["authorization": "Bearer \(token)"])
    }

    /// The account an identity's requests target.
    func account(for identity: Identity) -> Account { identity == .adminAOnB ? b : a }
    func target(for identity: Identity) -> AccountUser { identity == .adminAOnB ? bTarget : aTarget }
    func staff(for identity: Identity) -> Group { identity == .adminAOnB ? bStaff : aStaff }
}

/// One call of every method, built for an identity.
private typealias Call = @Sendable (MarketplaceClient, World, World.Identity, CallOptions) async throws -> Void

private let calls: [(method: String, rule: String, call: Call)] = [
    ("Health/Check", "everyone", { c, _, _, o in _ = try await c.health.check(.init(), options: o) }),
    ("Sessions/SignIn", "everyone", { c, _, _, o in _ = try await c.sessions.signIn(.init(email: "member@a.example", password: World.password), options: o) }),
    ("Sessions/SignOut", "user", { c, _, _, o in _ = try await c.sessions.signOut(.init(), options: o) }),
    ("Sessions/ListMyAccounts", "user", { c, _, _, o in _ = try await c.sessions.listMyAccounts(.init(), options: o) }),
    ("Sessions/SwitchAccount", "user", { c, w, _, o in _ = try await c.sessions.switchAccount(.init(accountId: w.a.id), options: o) }),
    ("Profile/GetProfile", "user", { c, _, _, o in _ = try await c.profile.getProfile(.init(), options: o) }),
    ("Profile/UpdateProfile", "user", { c, _, _, o in _ = try await c.profile.updateProfile(.init(language: "fr", fields: ["language"]), options: o) }),
    ("Profile/ChangePassword", "user", { c, _, _, o in _ = try await c.profile.changePassword(.init(currentPassword: World.password, newPassword: "N3w!password"), options: o) }),
    ("Invitations/ShowInvitation", "everyone", { c, _, _, o in _ = try await c.invitations.showInvitation(.init(token: "unknown-token"), options: o) }),
    ("Invitations/AcceptInvitation", "everyone", { c, _, _, o in _ = try await c.invitations.acceptInvitation(.init(token: "unknown-token", firstName: "A", lastName: "B", password: "Str0ng!pass", acceptTerms: true), options: o) }),
    ("Invitations/DeclineInvitation", "everyone", { c, _, _, o in _ = try await c.invitations.declineInvitation(.init(token: "unknown-token"), options: o) }),
    ("Accounts/CreateAccount", "operator", { c, _, _, o in _ = try await c.accounts.createAccount(.init(name: "New", type: .client), options: o) }),
    ("Accounts/ListAccounts", "operator", { c, _, _, o in _ = try await c.accounts.listAccounts(.init(), options: o) }),
    ("Accounts/GetAccount", "admin", { c, w, i, o in _ = try await c.accounts.getAccount(.init(accountId: w.account(for: i).id), options: o) }),
    ("Groups/CreateGroup", "admin", { c, w, i, o in _ = try await c.groups.createGroup(.init(accountId: w.account(for: i).id, name: "G-\(i)"), options: o) }),
    ("Groups/GetGroup", "admin", { c, w, i, o in _ = try await c.groups.getGroup(.init(groupId: w.staff(for: i).id), options: o) }),
    ("Groups/ListGroups", "admin", { c, w, i, o in _ = try await c.groups.listGroups(.init(accountId: w.account(for: i).id), options: o) }),
    ("AccountUsers/InviteUser", "admin", { c, w, i, o in _ = try await c.accountUsers.inviteUser(.init(accountId: w.account(for: i).id, email: "new-\(i)@example.com", firstName: "N", lastName: "U", groupIds: [w.staff(for: i).id]), options: o) }),
    ("AccountUsers/ListAccountUsers", "admin", { c, w, i, o in _ = try await c.accountUsers.listAccountUsers(.init(accountId: w.account(for: i).id), options: o) }),
    ("AccountUsers/GetAccountUser", "admin", { c, w, i, o in _ = try await c.accountUsers.getAccountUser(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/UpdateAccountUserGroups", "admin", { c, w, i, o in _ = try await c.accountUsers.updateAccountUserGroups(.init(accountUserId: w.target(for: i).id, groupIds: [w.staff(for: i).id]), options: o) }),
    ("AccountUsers/RemoveAccountUser", "admin", { c, w, i, o in _ = try await c.accountUsers.removeAccountUser(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/GetInvitationLink", "admin", { c, w, i, o in _ = try await c.accountUsers.getInvitationLink(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/ResendInvitation", "admin", { c, w, i, o in _ = try await c.accountUsers.resendInvitation(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/RenewInvitation", "admin", { c, w, i, o in _ = try await c.accountUsers.renewInvitation(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/RevokeInvitation", "admin", { c, w, i, o in _ = try await c.accountUsers.revokeInvitation(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/BlockAccountUser", "admin", { c, w, i, o in _ = try await c.accountUsers.blockAccountUser(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/UnblockAccountUser", "admin", { c, w, i, o in _ = try await c.accountUsers.unblockAccountUser(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("Audit/ListAuditEvents", "admin", { c, w, i, o in _ = try await c.audit.listAuditEvents(.init(accountId: w.account(for: i).id), options: o) }),
    ("Users/GetUser", "operator", { c, w, _, o in _ = try await c.users.getUser(.init(userId: w.aTarget.user!.id), options: o) }),
    ("Users/FindUserByEmail", "operator", { c, _, _, o in _ = try await c.users.findUserByEmail(.init(email: "target@a.example"), options: o) }),
    ("Users/ListUsers", "operator", { c, _, _, o in _ = try await c.users.listUsers(.init(), options: o) }),
    ("Users/DeleteUser", "operator", { c, w, _, o in _ = try await c.users.deleteUser(.init(userId: w.aTarget.user!.id), options: o) }),
    ("Outbox/ListPendingMessages", "operator", { c, _, _, o in _ = try await c.outbox.listPendingMessages(.init(), options: o) }),
    ("Outbox/MarkMessagesSent", "operator", { c, _, _, o in _ = try await c.outbox.markMessagesSent(.init(messageIds: ["1"]), options: o) }),
    ("Outbox/ClaimMessages", "operator", { c, _, _, o in _ = try await c.outbox.claimMessages(.init(limit: 1, leaseSeconds: 1), options: o) }),
    ("Outbox/ReportDeliveryFailure", "operator", { c, _, _, o in _ = try await c.outbox.reportDeliveryFailure(.init(messageId: "999999", claimId: "CLM-x", permanent: true, reason: "test"), options: o) }),
]

/// What a rule answers an identity: nil means "allowed" (the call reaches its
/// handler, which may still refuse it for business reasons other than
/// UNAUTHENTICATED or PERMISSION_DENIED).
private func expected(method: String, rule: String, identity: World.Identity) -> StatusCode? {
    // Allowed by the rule, refused by the business: a user with no active
    // membership cannot make an account current.
    if method == "Sessions/SwitchAccount" && identity == .noAccount { return .permissionDenied }
    return switch (rule, identity) {
    case ("everyone", _): nil
    case (_, .anonymous): .unauthenticated
    case ("operator", .operator): nil
    case ("operator", _): .permissionDenied
    case ("user", .operator): .unauthenticated
    case ("user", _): nil
    case ("admin", .operator), ("admin", .adminA): nil
    case ("admin", _): .permissionDenied
    default: .internal
    }
}

@Suite("Authorization: every method for every identity")
struct AuthorizationTests {
    @Test("the table of identity x method", arguments: calls.map(\.method))
    func table(method: String) async throws {
        let entry = try #require(calls.first { $0.method == method })
        for identity in World.Identity.allCases {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            // An operator (this root test process) builds the world...
            let world = try await withUsersServer(in: directory) { _, client in try await World.make(client) }
            // ...then the server restarts on the same database; for the anonymous
            // identity, root is no operator there, so this process's peer is ordinary.
            let operators = identity == .anonymous ? OperatorPolicy(includesRootAndServerUser: false) : OperatorPolicy()
            try await withUsersServer(in: directory, configure: { $0.operators = operators }) { _, client in
                var code: StatusCode?
                do {
                    try await entry.call(client, world, identity, world.options(identity))
                } catch let error as RPCError {
                    code = error.code
                }
                if let want = expected(method: method, rule: entry.rule, identity: identity) {
                    #expect(code == want, "\(method) as \(identity): got \(code?.name ?? "OK"), want \(want.name)")
                } else {
                    #expect(code != .unauthenticated && code != .permissionDenied,
                            "\(method) as \(identity) was refused: \(code?.name ?? "")")
                }
            }
        }
    }

    @Test("every registered method is in the table and has an access rule")
    func completeness() async throws {
        try await withUsersServer { server, _ in
            let registered = Set(server.registeredMethods.map { $0.replacingOccurrences(of: "marketplace.users.v1.", with: "").replacingOccurrences(of: "marketplace.health.v1.", with: "") })
            #expect(registered == Set(calls.map(\.method)))
        }
    }
}
