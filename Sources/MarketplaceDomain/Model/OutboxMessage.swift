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
