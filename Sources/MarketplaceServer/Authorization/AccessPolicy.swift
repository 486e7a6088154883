/// The authorization rule of every method, in one table. A method missing from
/// it is refused (default deny); a test checks that every registered method has
/// a rule.
struct AccessPolicy: Sendable {
    let rules: [String: AccessRule]
    /// The same rules by service, then method: looked up on every call
    /// without building a `service/method` string.
    private let byService: [String: [String: AccessRule]]

    init(rules: [String: AccessRule]) {
        self.rules = rules
        var byService: [String: [String: AccessRule]] = [:]
        for (name, rule) in rules {
            guard let slash = name.lastIndex(of: "/") else { continue }
            byService[String(name[..<slash]), default: [:]][String(name[name.index(after: slash)...])] = rule
        }
        self.byService = byService
    }

    func rule(service: String, method: String) -> AccessRule? {
        byService[service]?[method]
    }

    static let standard = AccessPolicy(rules: [
        "marketplace.health.v1.Health/Check": .everyone,

        "marketplace.users.v1.Sessions/SignIn": .everyone,
        "marketplace.users.v1.Sessions/SignOut": .signedInUser,
        "marketplace.users.v1.Sessions/ListMyAccounts": .signedInUser,
        "marketplace.users.v1.Sessions/SwitchAccount": .signedInUser,

        "marketplace.users.v1.Profile/GetProfile": .signedInUser,
        "marketplace.users.v1.Profile/UpdateProfile": .signedInUser,
        "marketplace.users.v1.Profile/ChangePassword": .signedInUser,

        "marketplace.users.v1.Invitations/ShowInvitation": .everyone,
        "marketplace.users.v1.Invitations/AcceptInvitation": .everyone,
        "marketplace.users.v1.Invitations/DeclineInvitation": .everyone,

        "marketplace.users.v1.Accounts/CreateAccount": .operatorOnly,
        "marketplace.users.v1.Accounts/ListAccounts": .operatorOnly,
        "marketplace.users.v1.Accounts/GetAccount": .accountAdministrator,

        "marketplace.users.v1.Groups/CreateGroup": .accountAdministrator,
        "marketplace.users.v1.Groups/GetGroup": .accountAdministrator,
        "marketplace.users.v1.Groups/ListGroups": .accountAdministrator,

        "marketplace.users.v1.AccountUsers/InviteUser": .accountAdministrator,
        "marketplace.users.v1.AccountUsers/ListAccountUsers": .accountAdministrator,
        "marketplace.users.v1.AccountUsers/GetAccountUser": .accountAdministrator,
        "marketplace.users.v1.AccountUsers/UpdateAccountUserGroups": .accountAdministrator,
        "marketplace.users.v1.AccountUsers/RemoveAccountUser": .accountAdministrator,
        "marketplace.users.v1.AccountUsers/GetInvitationLink": .accountAdministrator,
        "marketplace.users.v1.AccountUsers/ResendInvitation": .accountAdministrator,
        "marketplace.users.v1.AccountUsers/RenewInvitation": .accountAdministrator,
        "marketplace.users.v1.AccountUsers/RevokeInvitation": .accountAdministrator,
        "marketplace.users.v1.AccountUsers/BlockAccountUser": .accountAdministrator,
        "marketplace.users.v1.AccountUsers/UnblockAccountUser": .accountAdministrator,

        "marketplace.users.v1.Audit/ListAuditEvents": .accountAdministrator,

        "marketplace.users.v1.Users/GetUser": .operatorOnly,
        "marketplace.users.v1.Users/FindUserByEmail": .operatorOnly,
        "marketplace.users.v1.Users/ListUsers": .operatorOnly,
        "marketplace.users.v1.Users/DeleteUser": .operatorOnly,

        "marketplace.users.v1.Outbox/ListPendingMessages": .operatorOnly,
        "marketplace.users.v1.Outbox/MarkMessagesSent": .operatorOnly,
        "marketplace.users.v1.Outbox/ClaimMessages": .operatorOnly,
        "marketplace.users.v1.Outbox/ReportDeliveryFailure": .operatorOnly,
    ])
}
