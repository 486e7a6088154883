import Foundation

/// The storage backend the tests of this process run against, from
/// `MARKETPLACE_TEST_BACKEND` (`sqlite`, the default, or `postgres`).
/// Scripts/test runs the backend-parameterized suites once per backend
/// (docs/testing.md).
public enum TestBackend: String, Sendable, CaseIterable {
    case sqlite
    case postgres

    public static let current: TestBackend = {
        let raw = ProcessInfo.processInfo.environment["MARKETPLACE_TEST_BACKEND"] ?? ""
        if raw.isEmpty { return .sqlite }
        guard let backend = TestBackend(rawValue: raw) else {
            fatalError("MARKETPLACE_TEST_BACKEND=\(raw): expected sqlite or postgres")
        }
        return backend
    }()
}
