import Foundation

/// An email recorded durably, in the same transaction as the change that caused
/// it, for the mail sender to collect and deliver.
public struct OutboxMessage: Sendable, Equatable, Hashable {
    /// Why the message is sent.
    public enum Kind: String, Sendable, CaseIterable {
        case invitation, resend, newInvitation = "new_invitation", removal
    }

    /// Increasing id.
    public var id: Int64
    public var kind: Kind
    public var recipient: String
    public var subject: String
    /// Plain text body, including the invitation link where relevant.
    public var body: String
    public var accountUserID: String
    public var createdAt: Date
    /// When the mail sender confirmed delivery; `nil` while pending.
    public var sentAt: Date?

    /// Where delivery stands (derived from the stored times).
    public var state: DeliveryState = .pending
    /// How many times a mail sender claimed the message.
    public var attempts: Int = 0
    /// The reason of the permanent failure (`failed`), or of the last
    /// temporary one while pending; `nil` when none was reported.
    public var failureReason: String?
    /// When the permanent failure was reported.
    public var failedAt: Date?
    /// The claim holding the message, and until when (only while pending).
    public var claimID: String?
    public var leaseExpiresAt: Date?
    /// After a temporary failure: not handed out again before this time.
    public var nextAttemptAt: Date?
    /// What the mail sender's templates need, filled in when collected.
    public var details: Details?

    /// Where delivery of a message stands.
    public enum DeliveryState: String, Sendable, CaseIterable {
        /// Waiting for a mail sender (possibly claimed by one, or waiting for a retry).
        case pending
        /// A mail sender's agent accepted it.
        case sent
        /// Delivery failed permanently (the reason is recorded); never handed out again.
        case failed
        /// Withdrawn by the service before delivery; never handed out.
        case cancelled
    }

    /// The fields a message's templates draw on.
    public struct Details: Sendable, Equatable, Hashable {
        public var accountName: String
        public var recipientFirstName: String
        public var recipientLastName: String
        /// The recipient's profile language and locale tags (e.g. `de`, `de-DE`).
        public var recipientLanguage: String
        public var recipientLocale: String
        /// Invitation kinds only: who invited, the link, and until when it works.
        public var inviterName: String?
        public var invitationLink: String?
        public var invitationExpiresAt: Date?

        public init(
            accountName: String, recipientFirstName: String, recipientLastName: String, recipientLanguage: String,
            recipientLocale: String, inviterName: String? = nil, invitationLink: String? = nil, invitationExpiresAt: Date? = nil
        ) {
            self.accountName = accountName
            self.recipientFirstName = recipientFirstName
            self.recipientLastName = recipientLastName
            self.recipientLanguage = recipientLanguage
            self.recipientLocale = recipientLocale
            self.inviterName = inviterName
            self.invitationLink = invitationLink
            self.invitationExpiresAt = invitationExpiresAt
        }
    }

    public init(id: Int64, kind: Kind, recipient: String, subject: String, body: String, accountUserID: String, createdAt: Date, sentAt: Date?) {
        self.id = id
        self.kind = kind
        self.recipient = recipient
        self.subject = subject
        self.body = body
        self.accountUserID = accountUserID
        self.createdAt = createdAt
        self.sentAt = sentAt
    }
}
