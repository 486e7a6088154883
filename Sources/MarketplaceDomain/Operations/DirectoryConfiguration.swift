/// Settings of a ``UserDirectory``.
public struct DirectoryConfiguration: Sendable {
    /// How long an invitation link stays valid (default 7 days).
    public var invitationTTL: Duration
    /// Prefix of every invitation link; the token is appended.
    public var linkBaseURL: String
    /// Name shown as the inviter when an operator invites (the contract's
    /// `InvitationView.inviter_name`: "the platform operators").
    public var operatorDisplayName: String
    /// How long a session lasts from sign-in, however it is used (default 12 hours).
    public var sessionLifetime: Duration = .seconds(12 * 3600)
    /// How long a session lasts without being used (default 30 minutes).
    public var sessionIdleTimeout: Duration = .seconds(30 * 60)
    /// The least time between two recordings of a session's last use, so that
    /// most authentications only read (default 60 s). The idle expiry is counted
    /// from the recorded use, so it may come up to this much earlier.
    public var sessionTouchInterval: Duration = .seconds(60)

    public init(
        invitationTTL: Duration = .seconds(7 * 86_400),
        linkBaseURL: String = "https://marketplace.example/invitations/",
        operatorDisplayName: String = "the platform operators",
        sessionLifetime: Duration = .seconds(12 * 3600),
        sessionIdleTimeout: Duration = .seconds(30 * 60),
        sessionTouchInterval: Duration = .seconds(60)
    ) {
        self.invitationTTL = invitationTTL
        self.linkBaseURL = linkBaseURL
        self.operatorDisplayName = operatorDisplayName
        self.sessionLifetime = sessionLifetime
        self.sessionIdleTimeout = sessionIdleTimeout
        self.sessionTouchInterval = sessionTouchInterval
    }
}
