/// The version of this client library (and of the `marketplace-users` CLI),
/// released together with the service: the same number `Health/Check` reports.
public enum ClientVersion {
    public static let current = "0.1.0"
}
