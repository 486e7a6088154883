import Foundation
import Logging
import MarketplaceDomain
import MarketplaceSQLite
import Testing

/// A directory over a real SQLite file in a fresh temporary directory, with a
/// manual clock and libsodium's minimum Argon2id parameters.
struct Fixture {
    let dataDirectory: String
    let clock: ManualWallClock
    let store: SQLiteStore
    let secrets: Secrets
    let directory: UserDirectory
    static let admin = Actor.operator(uid: 0)
    /// What the server passes for an operator's calls.
    static let operatorAccess = AccessRequirement.operator(uid: 0)
    static let ttl: Duration = .seconds(7 * 86_400)

    init(dataDirectory: String? = nil, ttl: Duration = Fixture.ttl) throws {
        let dir = dataDirectory ?? Fixture.makeTemporaryDirectory()
        self.dataDirectory = dir
        clock = ManualWallClock()
        store = try SQLiteStore(dataDirectory: dir)
        secrets = try Secrets(configuration: .inDataDirectory(dir, passwordParameters: .minimum, hashingThreads: 2))
        directory = UserDirectory(
            store: store, clock: clock, secrets: secrets,
            configuration: DirectoryConfiguration(invitationTTL: ttl), logger: Logger(label: "test"))
    }

    static func makeTemporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("domain-tests-\(UUID().uuidString)", isDirectory: true).path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// An account with an administrators' group and a default group.
    func makeAccount(_ name: String = "Acme") async throws -> (account: Account, admins: Group, staff: Group) {
        let account = try await directory.createAccount(name: name, type: .client, actor: Self.admin)
        let admins = try await directory.createGroup(
            accountID: account.id, name: "Administrators", permissions: ["users.manage"], isAdministrators: true, actor: Self.admin, access: Fixture.operatorAccess)
        let staff = try await directory.createGroup(accountID: account.id, name: "Staff", permissions: ["orders.read"], isDefault: true, actor: Self.admin, access: Fixture.operatorAccess)
        return (account, admins, staff)
    }

    /// The token at the end of a link.
    static func token(of link: String) -> String {
        String(link.split(separator: "/").last!)
    }
}

/// Runs `body` with a fresh fixture, removing its directory afterwards.
func withFixture(ttl: Duration = Fixture.ttl, _ body: (Fixture) async throws -> Void) async throws {
    let fixture = try Fixture(ttl: ttl)
    defer { fixture.cleanUp() }
    try await body(fixture)
}

/// Expects `body` to throw a ``DomainError`` of `kind`; returns it.
@discardableResult
func expectDomainError<T>(
    _ kind: DomainError.Kind, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async -> DomainError? {
    do {
        _ = try await body()
        Issue.record("expected \(kind), but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as DomainError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected DomainError \(kind), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
