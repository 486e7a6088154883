/// An outbox message as stored. Invitation links are not stored in clear: the
/// body holds ``linkPlaceholder`` and the token is kept sealed beside it, so a
/// copy of the database alone yields no working link. The domain fills the link
/// in when the mail sender collects the message.
public struct OutboxEntry: Sendable, Equatable {
    /// Stands for the invitation link in a stored body.
    public static let linkPlaceholder = "{{invitation_link}}"

    public var message: OutboxMessage
    /// The invitation token sealed under the key file's key, for bodies with a link.
    public var sealedToken: [UInt8]?

    public init(message: OutboxMessage, sealedToken: [UInt8]?) {
        self.message = message
        self.sealedToken = sealedToken
    }
}
