import Foundation

/// The text of the emails the outbox carries. Invitation bodies hold
/// ``OutboxEntry/linkPlaceholder`` where the link goes (filled in at collection).
enum Emails {
    static func invitation(kind: OutboxMessage.Kind, accountName: String, inviterName: String, expiresAt: Date) -> (subject: String, body: String) {
        let subject: String
        let opening: String
        switch kind {
        case .resend:
            subject = "Reminder: you are invited to join \(accountName) on the Marketplace Platform"
            opening = "This is a reminder: \(inviterName) invited you to join \(accountName) on the Marketplace Platform."
        case .newInvitation:
            subject = "New invitation to join \(accountName) on the Marketplace Platform"
            opening = "\(inviterName) sent you a new invitation to join \(accountName) on the Marketplace Platform. Earlier links no longer work."
        default:
            subject = "You are invited to join \(accountName) on the Marketplace Platform"
            opening = "\(inviterName) invited you to join \(accountName) on the Marketplace Platform."
        }
        let body = """
            Hello,

            \(opening.prefix(1).uppercased() + opening.dropFirst())

            To accept or decline, open this link:
            \(OutboxEntry.linkPlaceholder)

            The link is valid until \(expiresAt.rfc3339).
            """
        return (subject, body)
    }

    static func removal(accountName: String) -> (subject: String, body: String) {
        (
            "You were removed from \(accountName) on the Marketplace Platform",
            """
            Hello,

            You no longer have access to the account \(accountName) on the Marketplace Platform.
            Your login and your other accounts are not affected.
            """
        )
    }
}
