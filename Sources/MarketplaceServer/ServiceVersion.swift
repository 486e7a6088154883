/// The version of this service, reported by `Health/Check`.
public enum ServiceVersion {
    public static let current = "0.1.0"
}
