import Foundation
import MarketplaceDomain
import MarketplaceProtos

// Domain values to contract messages, one initializer per entity. Both modules
// name their types after the same concepts, so domain types are qualified.

extension MarketplaceProtos.Account {
    init(_ account: MarketplaceDomain.Account) {
        self.init(
            id: account.id, name: account.name, type: AccountType(account.type), status: AccountStatus(account.status),
            createdAt: account.createdAt)
    }
}

extension AccountType {
    init(_ kind: MarketplaceDomain.Account.Kind) {
        switch kind {
        case .client: self = .client
        case .vendor: self = .vendor
        case .operations: self = .operations
        }
    }

    /// The domain kind; nil for UNSPECIFIED or an unknown value.
    var domain: MarketplaceDomain.Account.Kind? {
        switch self {
        case .client: .client
        case .vendor: .vendor
        case .operations: .operations
        case .unspecified, .unrecognized: nil
        }
    }
}

extension AccountStatus {
    init(_ status: MarketplaceDomain.Account.Status) {
        switch status {
        case .active: self = .active
        case .disabled: self = .disabled
        }
    }
}

extension MarketplaceProtos.Group {
    init(_ group: MarketplaceDomain.Group) {
        self.init(
            id: group.id, accountId: group.accountID, name: group.name, description: group.description,
            permissions: group.permissions, isAdministrators: group.isAdministrators, isDefault: group.isDefault,
            createdAt: group.createdAt)
    }
}

extension MarketplaceProtos.User {
    init(_ user: MarketplaceDomain.User) {
        self.init(
            id: user.id, firstName: user.firstName, lastName: user.lastName, email: user.email,
            phone: user.phone ?? "", language: user.language, locale: user.locale, icon: user.icon,
            status: user.status == .active ? .active : .deleted, hasPassword: user.hasPassword,
            createdAt: user.createdAt, updatedAt: user.updatedAt, lastSignInAt: user.lastSignInAt)
    }

    init(_ summary: UserSummary) {
        self.init(
            id: summary.id, firstName: summary.firstName, lastName: summary.lastName, email: summary.email,
            status: summary.status == .active ? .active : .deleted, lastSignInAt: summary.lastSignInAt)
    }
}

extension MarketplaceProtos.MembershipStatus {
    init(_ status: MarketplaceDomain.MembershipStatus) {
        switch status {
        case .invited: self = .invited
        case .active: self = .active
        case .disabled: self = .disabled
        case .invitationExpired: self = .invitationExpired
        case .blocked: self = .blocked
        case .deleted: self = .deleted
        }
    }

    var domain: MarketplaceDomain.MembershipStatus? {
        switch self {
        case .invited: .invited
        case .active: .active
        case .disabled: .disabled
        case .invitationExpired: .invitationExpired
        case .blocked: .blocked
        case .deleted: .deleted
        case .unspecified, .unrecognized: nil
        }
    }
}

extension MarketplaceProtos.AccountUser {
    init(_ member: MarketplaceDomain.AccountUser) {
        self.init(
            // The same user mapping as Users/GetUser, of the person as the
            // membership shows them (as invited, until they accept).
            id: member.id, accountId: member.accountID, user: MarketplaceProtos.User(member.shownUser),
            status: MembershipStatus(member.status),
            groups: member.groups.map { GroupRef(id: $0.id, name: $0.name) },
            invitedAt: member.invitedAt, joinedAt: member.joinedAt, lastAccessAt: member.lastAccessAt,
            blockedAt: member.blockedAt, invitationExpiresAt: member.invitationExpiresAt, invitedBy: member.invitedBy)
    }
}

extension MarketplaceProtos.InvitationView {
    init(_ view: MarketplaceDomain.InvitationView) {
        let state: MarketplaceProtos.InvitationState = switch view.state {
        case .pending: .pending
        case .expired: .expired
        case .accepted: .accepted
        case .declined: .declined
        case .revoked: .revoked
        case .replaced: .replaced
        }
        self.init(
            accountId: view.accountID, accountName: view.accountName, inviterName: view.inviterName,
            email: view.email, expiresAt: view.expiresAt, state: state, hasLogin: view.hasLogin)
    }
}

extension MarketplaceProtos.AuditEvent {
    init(_ event: MarketplaceDomain.AuditEvent) {
        self.init(
            id: String(event.sequence), accountId: event.accountID ?? "", actor: event.actor,
            action: event.action.rawValue, targetId: event.targetID, details: event.details, occurredAt: event.at)
    }
}

extension MarketplaceProtos.OutboxMessage {
    init(_ message: MarketplaceDomain.OutboxMessage) {
        let kind: MessageKind = switch message.kind {
        case .invitation: .invitation
        case .resend: .invitationResent
        case .newInvitation: .newInvitation
        case .removal: .removal
        }
        let state: MessageState = switch message.state {
        case .pending: .pending
        case .sent: .sent
        case .failed: .failed
        case .cancelled: .cancelled
        }
        let details = message.details
        self.init(
            id: String(message.id), kind: kind, recipientEmail: message.recipient, subject: message.subject,
            body: message.body, accountUserId: message.accountUserID, createdAt: message.createdAt,
            sentAt: message.sentAt, state: state, attempts: Int32(clamping: message.attempts),
            failureReason: message.failureReason ?? "", claimId: message.claimID ?? "",
            leaseExpiresAt: message.leaseExpiresAt, nextAttemptAt: message.nextAttemptAt, failedAt: message.failedAt,
            accountName: details?.accountName ?? "", recipientFirstName: details?.recipientFirstName ?? "",
            recipientLastName: details?.recipientLastName ?? "", recipientLanguage: details?.recipientLanguage ?? "",
            recipientLocale: details?.recipientLocale ?? "", inviterName: details?.inviterName ?? "",
            invitationLink: details?.invitationLink ?? "", invitationExpiresAt: details?.invitationExpiresAt)
    }
}

extension AccountUserSort {
    var domain: AccountUserQuery.SortField? {
        switch self {
        case .unspecified, .name: .name
        case .email: .email
        case .joined: .joined
        case .lastSignIn: .lastSignIn
        case .unrecognized: nil
        }
    }
}
