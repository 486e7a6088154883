import Foundation

extension UserDirectory {
    /// Forgets a user that only ever existed because of invitations: when the
    /// user has no password (never accepted any invitation) and none of their
    /// memberships is left but `disabled` ones never joined (its invitations
    /// were revoked or declined), the user is deleted
    /// the way ``deleteUser(id:actor:)`` deletes (email, names and phone
    /// erased, status `deleted`, memberships `deleted`). So probing an email
    /// with InviteUser leaves no trace of it once the invitation ends
    /// unaccepted, and inviting it again later creates a new user, as for
    /// anyone unknown. Runs inside the transaction that revoked or declined the
    /// invitation. (Removing a member never deletes the user: domain rule.)
    static func forgetUnclaimedUser(_ w: any StoreWriter, userID: String, at now: Date) throws {
        guard var user = try w.user(id: userID), user.status == .active, !user.hasPassword,
              try w.passwordHash(userID: userID) == nil
        else { return }
        let members = try w.accountUsers(userID: userID).map { $0.resolved(at: now) }
        guard members.allSatisfy({ $0.status == .disabled && $0.joinedAt == nil }) else { return }
        for var member in members {
            guard let next = member.status.applying(.deleteUser) else { continue }
            member.status = next
            member.invitationExpiresAt = nil
            // The typed names and phone are personal data too.
            member.invitedAs = nil
            try w.update(member)
        }
        try erase(&user, w, at: now)
        try audit(w, .userDeleted, accountID: nil, target: userID, actor: .anonymous, at: now, details: "reason=invitation ended unaccepted; user never signed in")
    }
}
