/// Settings of a ``UserDirectory``.
public struct DirectoryConfiguration: Sendable {
    /// How long an invitation link stays valid (default 7 days).
    public var invitationTTL: Duration
    /// Prefix of every invitation link; the token is appended.
    public var linkBaseURL: String
    /// Name shown as the inviter when an operator invites.
    public var operatorDisplayName: String

    public init(
        invitationTTL: Duration = .seconds(7 * 86_400),
        linkBaseURL: String = "https://marketplace.example/invitations/",
        operatorDisplayName: String = "Marketplace Operations"
    ) {
        self.invitationTTL = invitationTTL
        self.linkBaseURL = linkBaseURL
        self.operatorDisplayName = operatorDisplayName
    }
}
