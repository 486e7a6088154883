import Foundation
import MarketplaceClient
@testable import MarketplaceServer
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
        /// An internal service's peer (`--service-uid`), without a session.
        case service
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

private let calls: [(method: String, call: Call)] = [
    ("Health/Check", { c, _, _, o in _ = try await c.health.check(.init(), options: o) }),
    ("Sessions/SignIn", { c, _, _, o in _ = try await c.sessions.signIn(.init(email: "member@a.example", password: World.password), options: o) }),
    ("Sessions/SignOut", { c, _, _, o in _ = try await c.sessions.signOut(.init(), options: o) }),
    ("Sessions/ListMyAccounts", { c, _, _, o in _ = try await c.sessions.listMyAccounts(.init(), options: o) }),
    ("Sessions/WhoAmI", { c, _, _, o in _ = try await c.sessions.whoAmI(.init(), options: o) }),
    ("Sessions/SwitchAccount", { c, w, _, o in _ = try await c.sessions.switchAccount(.init(accountId: w.a.id), options: o) }),
    ("Profile/GetProfile", { c, _, _, o in _ = try await c.profile.getProfile(.init(), options: o) }),
    ("Profile/UpdateProfile", { c, _, _, o in _ = try await c.profile.updateProfile(.init(language: "fr", fields: ["language"]), options: o) }),
    ("Profile/ChangePassword", { c, _, _, o in _ = try await c.profile.changePassword(.init(currentPassword: World.password, newPassword: "N3w!password"), options: o) }),
    ("Invitations/ShowInvitation", { c, _, _, o in _ = try await c.invitations.showInvitation(.init(token: "unknown-token"), options: o) }),
    ("Invitations/AcceptInvitation", { c, _, _, o in _ = try await c.invitations.acceptInvitation(.init(token: "unknown-token", firstName: "A", lastName: "B", password: "Str0ng!pass", acceptTerms: true), options: o) }),
    ("Invitations/DeclineInvitation", { c, _, _, o in _ = try await c.invitations.declineInvitation(.init(token: "unknown-token"), options: o) }),
    ("Accounts/CreateAccount", { c, _, _, o in _ = try await c.accounts.createAccount(.init(name: "New", type: .client), options: o) }),
    ("Accounts/ListAccounts", { c, _, _, o in _ = try await c.accounts.listAccounts(.init(), options: o) }),
    ("Accounts/GetAccount", { c, w, i, o in _ = try await c.accounts.getAccount(.init(accountId: w.account(for: i).id), options: o) }),
    ("Accounts/RenameAccount", { c, w, i, o in _ = try await c.accounts.renameAccount(.init(accountId: w.account(for: i).id, name: "Renamed"), options: o) }),
    ("Accounts/DisableAccount", { c, w, i, o in _ = try await c.accounts.disableAccount(.init(accountId: w.account(for: i).id), options: o) }),
    ("Accounts/EnableAccount", { c, w, i, o in _ = try await c.accounts.enableAccount(.init(accountId: w.account(for: i).id), options: o) }),
    ("Groups/CreateGroup", { c, w, i, o in _ = try await c.groups.createGroup(.init(accountId: w.account(for: i).id, name: "G-\(i)"), options: o) }),
    ("Groups/GetGroup", { c, w, i, o in _ = try await c.groups.getGroup(.init(groupId: w.staff(for: i).id), options: o) }),
    ("Groups/ListGroups", { c, w, i, o in _ = try await c.groups.listGroups(.init(accountId: w.account(for: i).id), options: o) }),
    ("Groups/UpdateGroup", { c, w, i, o in _ = try await c.groups.updateGroup(.init(groupId: w.staff(for: i).id, name: "Renamed-\(i)", fields: ["name"]), options: o) }),
    ("Groups/DeleteGroup", { c, w, i, o in _ = try await c.groups.deleteGroup(.init(groupId: w.staff(for: i).id), options: o) }),
    ("AccountUsers/InviteUser", { c, w, i, o in _ = try await c.accountUsers.inviteUser(.init(accountId: w.account(for: i).id, email: "new-\(i)@example.com", firstName: "N", lastName: "U", groupIds: [w.staff(for: i).id]), options: o) }),
    ("AccountUsers/ListAccountUsers", { c, w, i, o in _ = try await c.accountUsers.listAccountUsers(.init(accountId: w.account(for: i).id), options: o) }),
    ("AccountUsers/GetAccountUser", { c, w, i, o in _ = try await c.accountUsers.getAccountUser(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/UpdateAccountUserGroups", { c, w, i, o in _ = try await c.accountUsers.updateAccountUserGroups(.init(accountUserId: w.target(for: i).id, groupIds: [w.staff(for: i).id]), options: o) }),
    ("AccountUsers/AddAccountUserGroups", { c, w, i, o in _ = try await c.accountUsers.addAccountUserGroups(.init(accountUserId: w.target(for: i).id, groupIds: [w.staff(for: i).id]), options: o) }),
    ("AccountUsers/RemoveAccountUserGroups", { c, w, i, o in _ = try await c.accountUsers.removeAccountUserGroups(.init(accountUserId: w.target(for: i).id, groupIds: [w.staff(for: i).id]), options: o) }),
    ("AccountUsers/RemoveAccountUser", { c, w, i, o in _ = try await c.accountUsers.removeAccountUser(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/GetInvitationLink", { c, w, i, o in _ = try await c.accountUsers.getInvitationLink(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/ResendInvitation", { c, w, i, o in _ = try await c.accountUsers.resendInvitation(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/RenewInvitation", { c, w, i, o in _ = try await c.accountUsers.renewInvitation(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/RevokeInvitation", { c, w, i, o in _ = try await c.accountUsers.revokeInvitation(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/BlockAccountUser", { c, w, i, o in _ = try await c.accountUsers.blockAccountUser(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("AccountUsers/UnblockAccountUser", { c, w, i, o in _ = try await c.accountUsers.unblockAccountUser(.init(accountUserId: w.target(for: i).id), options: o) }),
    ("Audit/ListAuditEvents", { c, w, i, o in _ = try await c.audit.listAuditEvents(.init(accountId: w.account(for: i).id), options: o) }),
    ("Users/GetUser", { c, w, _, o in _ = try await c.users.getUser(.init(userId: w.aTarget.user!.id), options: o) }),
    ("Users/FindUserByEmail", { c, _, _, o in _ = try await c.users.findUserByEmail(.init(email: "target@a.example"), options: o) }),
    ("Users/ListUsers", { c, _, _, o in _ = try await c.users.listUsers(.init(), options: o) }),
    ("Users/ListUserAccountUsers", { c, w, _, o in _ = try await c.users.listUserAccountUsers(.init(userId: w.aTarget.user!.id), options: o) }),
    ("Users/DeleteUser", { c, w, _, o in _ = try await c.users.deleteUser(.init(userId: w.aTarget.user!.id), options: o) }),
    ("Outbox/ListPendingMessages", { c, _, _, o in _ = try await c.outbox.listPendingMessages(.init(), options: o) }),
    ("Outbox/MarkMessagesSent", { c, _, _, o in _ = try await c.outbox.markMessagesSent(.init(messageIds: ["1"]), options: o) }),
    ("Outbox/ClaimMessages", { c, _, _, o in _ = try await c.outbox.claimMessages(.init(limit: 1, leaseSeconds: 1), options: o) }),
    ("Outbox/ReportDeliveryFailure", { c, _, _, o in _ = try await c.outbox.reportDeliveryFailure(.init(messageId: "999999", claimId: "CLM-x", permanent: true, reason: "test"), options: o) }),
    ("Access/CheckAccess", { c, w, _, o in _ = try await c.access.checkAccess(.init(token: w.tokens[.memberA]!, permissions: ["users.manage"]), options: o) }),
    ("Changes/ListChanges", { c, _, _, o in _ = try await c.changes.listChanges(.init(afterPosition: 0), options: o) }),
]

/// The methods open to internal services (`services: true` in the contract):
/// read-only ones only.
private let serviceMethods: Set<String> = [
    "Access/CheckAccess", "Changes/ListChanges", "Users/GetUser", "Accounts/GetAccount", "Groups/GetGroup",
    "Groups/ListGroups", "AccountUsers/GetAccountUser", "AccountUsers/ListAccountUsers",
]

/// The method's rule in the table generated from the contract.
private func rule(of method: String) -> AccessRule? {
    AccessPolicy.standard.methods.first { $0.name.hasSuffix("." + method) }?.rule
}

/// What a rule answers an identity: nil means "allowed" (the call reaches its
/// handler, which may still refuse it for business reasons other than
/// UNAUTHENTICATED or PERMISSION_DENIED).
private func expected(method: String, rule: AccessRule, identity: World.Identity) -> StatusCode? {
    // Allowed by the rule, refused by the business: a user with no active
    // membership cannot make an account current.
    if method == "Sessions/SwitchAccount" && identity == .noAccount { return .permissionDenied }
    switch (rule, identity) {
    case (.everyone, _): return nil
    // A service: the read-only methods opened to services, nothing else.
    case (_, .service): return serviceMethods.contains(method) ? nil : .permissionDenied
    case (_, .anonymous): return .unauthenticated
    case (.operatorOnly, .operator): return nil
    case (.operatorOnly, _): return .permissionDenied
    case (.signedInUser, .operator): return .unauthenticated
    case (.signedInUser, _): return nil
    case (.accountAdministrator, .operator), (.accountAdministrator, .adminA): return nil
    // An administrator of A aiming at B: another account's id in account_id is
    // "not your current account", like any id; B's memberships and groups
    // answer like unknown ids.
    case (.accountAdministrator(let target), .adminAOnB): return target.field == "account_id" ? .permissionDenied : .notFound
    case (.accountAdministrator, _): return .permissionDenied
    }
}

@Suite("Authorization: every method for every identity")
struct AuthorizationTests {
    @Test("the table of identity x method", arguments: calls.map(\.method))
    func table(method: String) async throws {
        let entry = try #require(calls.first { $0.method == method })
        let methodRule = try #require(rule(of: method), "\(method) has no rule in the generated table")
        for identity in World.Identity.allCases {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            // An operator (this root test process) builds the world...
            let world = try await withUsersServer(in: directory) { _, client in try await World.make(client) }
            // ...then the server restarts on the same database; for the anonymous
            // identity, root is no operator there, so this process's peer is ordinary.
            let operators = identity == .anonymous || identity == .service ? OperatorPolicy(includesRootAndServerUser: false) : OperatorPolicy()
            let services = identity == .service ? ServicePolicy(uids: [getuid()]) : ServicePolicy()
            try await withUsersServer(in: directory, configure: { $0.operators = operators; $0.services = services }) { _, client in
                var code: StatusCode?
                do {
                    try await entry.call(client, world, identity, world.options(identity))
                } catch let error as RPCError {
                    code = error.code
                }
                if let want = expected(method: method, rule: methodRule, identity: identity) {
                    #expect(code == want, "\(method) as \(identity): got \(code?.name ?? "OK"), want \(want.name)")
                } else {
                    #expect(code != .unauthenticated && code != .permissionDenied,
                            "\(method) as \(identity) was refused: \(code?.name ?? "")")
                }
            }
        }
    }

    @Test("the contract opens exactly the read-only lookups, the access check and the change feed to services")
    func servicesTable() {
        let open = Set(AccessPolicy.standard.methods.filter(\.services).map {
            $0.name.replacingOccurrences(of: "marketplace.users.v1.", with: "")
        })
        #expect(open == serviceMethods)
    }

    @Test("a peer both operator and service acts as an operator")
    func operatorWinsOverService() async throws {
        try await withUsersServer(configure: { $0.services = ServicePolicy(uids: [getuid()]) }) { _, client in
            // CreateAccount writes: refused to a service, allowed to an operator.
            _ = try await client.accounts.createAccount(.init(name: "Both", type: .client))
        }
    }

    @Test("every registered method is in the table and has an access rule generated from the contract")
    func completeness() async throws {
        try await withUsersServer { server, _ in
            let registered = Set(server.registeredMethods.map { $0.replacingOccurrences(of: "marketplace.users.v1.", with: "").replacingOccurrences(of: "marketplace.health.v1.", with: "") })
            #expect(registered == Set(calls.map(\.method)))
            #expect(Set(server.registeredMethods) == Set(AccessPolicy.standard.methods.map(\.name)))
        }
    }
}
