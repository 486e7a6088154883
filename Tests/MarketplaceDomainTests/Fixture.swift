import Foundation
import Logging
import MarketplaceDomain
import MarketplaceSQLite
import MarketplaceTestSupport
import Testing

/// A directory over a real store on the tests' backend (`TestBackend`: a
/// SQLite file in a fresh temporary directory, or a fresh PostgreSQL
/// database), with a manual clock and libsodium's minimum Argon2id parameters.
/// The key file is in the temporary directory on both.
struct Fixture {
    let dataDirectory: String
    let clock: ManualWallClock
    let store: any Store
    /// Where the rows are (and the database to drop on PostgreSQL).
    let storage: TestStorage
    let secrets: Secrets
    let directory: UserDirectory
    static let admin = Actor.operator(uid: 0)
    /// What the server passes for an operator's calls.
    static let operatorAccess = AccessRequirement.operator(uid: 0)
    static let ttl: Duration = .seconds(7 * 86_400)

    /// The SQLite store, for the tests of SQLite itself (nil on PostgreSQL).
    var sqlite: SQLiteStore? { store as? SQLiteStore }

    /// A fixture on SQLite in `dataDirectory` (a new one if nil), whatever the
    /// tests' backend.
    init(dataDirectory: String? = nil, ttl: Duration = Fixture.ttl) throws {
        let dir = dataDirectory ?? Fixture.makeTemporaryDirectory()
        try self.init(
            dataDirectory: dir, store: SQLiteStore(dataDirectory: dir),
            storage: TestStorage(dataDirectory: dir, database: nil), ttl: ttl)
    }

    /// A fixture on the tests' backend.
    static func make(ttl: Duration = Fixture.ttl) async throws -> Fixture {
        let dir = Fixture.makeTemporaryDirectory()
        let storage = try await TestStorage.forDataDirectory(dir)
        return try Fixture(dataDirectory: dir, store: try await storage.openStore(), storage: storage, ttl: ttl)
    }

    private init(dataDirectory dir: String, store: any Store, storage: TestStorage, ttl: Duration) throws {
        self.dataDirectory = dir
        self.store = store
        self.storage = storage
        clock = ManualWallClock()
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

    func cleanUp() async {
        await close(store)
        await storage.remove()
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
    let fixture = try await Fixture.make(ttl: ttl)
    let result = await capture { try await body(fixture) }
    await fixture.cleanUp()
    try result.get()
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

/// Runs `body` with a fresh, empty store on the tests' backend and its
/// storage (to open the same data again), closing and removing both after.
func withStore(_ body: (TestStorage, any Store) async throws -> Void) async throws {
    let directory = Fixture.makeTemporaryDirectory()
    let storage = try await TestStorage.forDataDirectory(directory)
    let store = try await storage.openStore()
    let result = await capture { try await body(storage, store) }
    await close(store)
    await storage.remove()
    try? FileManager.default.removeItem(atPath: directory)
    try result.get()
}

/// Closes a store that holds connections (PostgreSQL); SQLite's closes when released.
func close(_ store: any Store) async {
    if let closable = store as? any ClosableStore { await closable.close() }
}

/// What `body` returned or threw.
func capture<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
