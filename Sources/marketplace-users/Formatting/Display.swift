import Foundation
import MarketplaceClient

// How each resource reads for a person: spelled-out statuses, names, and the
// rows and detail views the commands print. JSON output never goes through here.

extension AccountType {
    var displayName: String {
        switch self {
        case .client: "Client"
        case .vendor: "Vendor"
        case .operations: "Operations"
        case .unspecified: "-"
        case .unrecognized(let value): "unknown (\(value))"
        }
    }
}

extension AccountStatus {
    var displayName: String {
        switch self {
        case .active: "Active"
        case .disabled: "Disabled"
        case .unspecified: "-"
        case .unrecognized(let value): "unknown (\(value))"
        }
    }
}

extension UserStatus {
    var displayName: String {
        switch self {
        case .active: "Active"
        case .deleted: "Deleted"
        case .unspecified: "-"
        case .unrecognized(let value): "unknown (\(value))"
        }
    }
}

extension MembershipStatus {
    var displayName: String {
        switch self {
        case .invited: "Invited"
        case .active: "Active"
        case .disabled: "Disabled (removed)"
        case .invitationExpired: "Invitation expired"
        case .blocked: "Blocked"
        case .deleted: "Deleted"
        case .unspecified: "-"
        case .unrecognized(let value): "unknown (\(value))"
        }
    }
}

extension InvitationState {
    var displayName: String {
        switch self {
        case .pending: "Pending"
        case .expired: "Expired"
        case .accepted: "Accepted"
        case .declined: "Declined"
        case .revoked: "Revoked"
        case .replaced: "Replaced by a newer invitation"
        case .unspecified: "-"
        case .unrecognized(let value): "unknown (\(value))"
        }
    }
}

extension MessageKind {
    var displayName: String {
        switch self {
        case .invitation: "Invitation"
        case .invitationResent: "Invitation resent"
        case .newInvitation: "New invitation"
        case .removal: "Removal"
        case .unspecified: "-"
        case .unrecognized(let value): "unknown (\(value))"
        }
    }
}

extension User {
    var fullName: String { "\(firstName) \(lastName)".trimmingCharacters(in: .whitespaces) }
}

extension AccountUser {
    /// The membership status, with the invitation spelled out: "Invitation
    /// expires in 6 days", "Invitation expired 2 days ago".
    func statusPhrase(now: Date = Date()) -> String {
        switch status {
        case .invited, .invitationExpired:
            guard let expires = invitationExpiresAt else { return status.displayName }
            return expires > now
                ? "Invitation expires \(TimeFormatting.relative(expires, now: now))"
                : "Invitation expired \(TimeFormatting.relative(expires, now: now))"
        case .blocked:
            return blockedAt.map { "Blocked since \(TimeFormatting.day($0))" } ?? "Blocked"
        default:
            return status.displayName
        }
    }

    /// Joined date, or the invitation status if not joined (as the Users page shows).
    var joinedOrInvitation: String {
        if let joinedAt { return TimeFormatting.day(joinedAt) }
        switch status {
        case .invited: return "invited"
        case .invitationExpired: return "invitation expired"
        default: return "not joined"
        }
    }

    /// One group's name, or the count when several.
    var groupsSummary: String {
        switch groups.count {
        case 0: "-"
        case 1: groups[0].name
        default: "\(groups.count) groups"
        }
    }
}

/// The tables and detail views of each resource.
enum Display {
    static func accounts(_ accounts: [Account]) {
        Output.printTable(
            ["id", "name", "type", "status", "created"],
            accounts.map { [$0.id, $0.name, $0.type.displayName, $0.status.displayName, TimeFormatting.absolute($0.createdAt)] },
            empty: "No accounts.")
    }

    static func account(_ account: Account) {
        Output.printDetails([
            ("Account", account.id), ("Name", account.name), ("Type", account.type.displayName),
            ("Status", account.status.displayName), ("Created", TimeFormatting.absolute(account.createdAt)),
        ])
    }

    static func groups(_ groups: [Group]) {
        Output.printTable(
            ["id", "name", "role", "permissions", "description"],
            groups.map { [$0.id, $0.name, role($0), "\($0.permissions.count)", $0.description] },
            empty: "No groups.")
    }

    static func group(_ group: Group) {
        Output.printDetails([
            ("Group", group.id), ("Account", group.accountId), ("Name", group.name),
            ("Description", group.description.isEmpty ? nil : group.description), ("Role", role(group)),
            ("Permissions", group.permissions.isEmpty ? "none" : group.permissions.joined(separator: ", ")),
            ("Created", TimeFormatting.absolute(group.createdAt)),
        ])
    }

    private static func role(_ group: Group) -> String {
        switch (group.isAdministrators, group.isDefault) {
        case (true, true): "administrators, default"
        case (true, false): "administrators"
        case (false, true): "default"
        case (false, false): "-"
        }
    }

    static func accountUsers(_ members: [AccountUser]) {
        let now = Date()
        Output.printTable(
            ["id", "name", "user", "email", "joined", "last sign-in", "groups", "status"],
            members.map { member in
                let user = member.user ?? User()
                return [
                    member.id, user.fullName, user.id, user.email, member.joinedOrInvitation,
                    TimeFormatting.day(user.lastSignInAt), member.groupsSummary, member.statusPhrase(now: now),
                ]
            },
            empty: "No users match.")
    }

    static func accountUser(_ member: AccountUser, link: String? = nil) {
        let user = member.user ?? User()
        Output.printDetails([
            ("Account user", member.id), ("Account", member.accountId), ("User", user.id),
            ("Name", user.fullName), ("Email", user.email), ("Phone", user.phone.isEmpty ? nil : user.phone),
            ("Status", member.statusPhrase()),
            ("Groups", member.groups.map { "\($0.name) (\($0.id))" }.joined(separator: ", ")),
            ("Invited", member.invitedAt.map { TimeFormatting.absolute($0) + (member.invitedBy.isEmpty ? "" : " by \(member.invitedBy)") }),
            ("Invitation expires", member.invitationExpiresAt.map { TimeFormatting.absoluteAndRelative($0) }),
            ("Invitation link", link),
            ("Joined", TimeFormatting.absolute(member.joinedAt, never: "not yet")),
            ("Last access", TimeFormatting.absolute(member.lastAccessAt)),
            ("Last sign-in", TimeFormatting.absolute(user.lastSignInAt)),
            ("Blocked", member.blockedAt.map { TimeFormatting.absolute($0) }),
        ])
    }

    static func users(_ users: [User]) {
        Output.printTable(
            ["id", "name", "email", "status", "login", "last sign-in", "created"],
            users.map {
                [$0.id, $0.fullName, $0.email, $0.status.displayName, $0.hasPassword ? "yes" : "no",
                 TimeFormatting.day($0.lastSignInAt), TimeFormatting.day($0.createdAt)]
            },
            empty: "No users.")
    }

    static func user(_ user: User) {
        Output.printDetails([
            ("User", user.id), ("Name", user.fullName), ("Email", user.email), ("Phone", user.phone.isEmpty ? nil : user.phone),
            ("Status", user.status.displayName), ("Has a login", user.hasPassword ? "yes" : "no (has not accepted an invitation yet)"),
            ("Language", user.language.isEmpty ? nil : user.language), ("Locale", user.locale.isEmpty ? nil : user.locale),
            ("Created", TimeFormatting.absolute(user.createdAt)), ("Updated", TimeFormatting.absolute(user.updatedAt)),
            ("Last sign-in", TimeFormatting.absolute(user.lastSignInAt)),
        ])
    }

    static func invitation(_ view: InvitationView, now: Date = Date()) {
        var state = view.state.displayName
        if let expires = view.expiresAt, view.state == .pending || view.state == .expired {
            state = expires > now
                ? "Invitation expires \(TimeFormatting.relative(expires, now: now))"
                : "Invitation expired \(TimeFormatting.relative(expires, now: now))"
        }
        Output.printDetails([
            ("Account", "\(view.accountName) (\(view.accountId))"), ("Invited by", view.inviterName),
            ("Email", view.email), ("State", state),
            ("Valid until", TimeFormatting.absolute(view.expiresAt, never: "-")),
            ("Accepting needs", view.state != .pending ? nil : "the email's existing login password, or a new password"),
        ])
    }

    static func auditEvents(_ events: [AuditEvent]) {
        Output.printTable(
            ["when", "actor", "action", "target", "details"],
            events.map { [TimeFormatting.absolute($0.occurredAt), $0.actor, $0.action, $0.targetId, $0.details] },
            empty: "No audit events.")
    }

    static func outboxMessages(_ messages: [OutboxMessage]) {
        Output.printTable(
            ["id", "kind", "recipient", "account user", "created", "state", "subject"],
            messages.map {
                [$0.id, $0.kind.displayName, $0.recipientEmail, $0.accountUserId, TimeFormatting.absolute($0.createdAt), deliveryState($0), $0.subject]
            },
            empty: "No pending messages.")
    }

    /// "pending", "pending (attempt 2: <last failure>)", "failed: <reason>".
    static func deliveryState(_ message: OutboxMessage) -> String {
        switch message.state {
        case .failed: "failed: \(message.failureReason)"
        case .sent: "sent"
        case .cancelled: "cancelled"
        default:
            message.failureReason.isEmpty ? "pending" : "pending (\(message.attempts) attempts; last: \(message.failureReason))"
        }
    }
}
