/// The result of a successful sign-in: the bearer token (shown once, never
/// stored in clear), the new session and the user.
public struct SignedIn: Sendable {
    /// The opaque bearer token: 32 random bytes, URL-safe base64 without padding.
    public var token: String
    public var session: Session
    public var user: User

    public init(token: String, session: Session, user: User) {
        self.token = token
        self.session = session
        self.user = user
    }
}
