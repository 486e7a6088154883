import Foundation
import Logging
import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC
@testable import MarketplaceServer
import MarketplaceTestSupport
import Synchronization
import Testing

/// A store that counts the transactions run through it.
private final class CountingStore: Store {
    let base: any Store
    private let counts = Mutex((reads: 0, writes: 0))

    init(_ base: any Store) { self.base = base }

    var transactions: (reads: Int, writes: Int) { counts.withLock { $0 } }
    func reset() { counts.withLock { $0 = (0, 0) } }

    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        counts.withLock { $0.reads += 1 }
        return try await base.read(body)
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        counts.withLock { $0.writes += 1 }
        return try await base.write(body)
    }
}

/// The interceptor and a service handler in-process, over a directory whose
/// store counts transactions: an administrator's call reads the session once,
/// then runs its operation, whose single transaction also checks the rights.
@Suite("Authorization: transactions per administrator call")
struct AuthorizationTransactionTests {
    @Test("identify the session, then one transaction that checks the rights and does the work")
    func oneTransaction() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Counts the transactions of the tests' backend.
        let storage = try await TestStorage.forDataDirectory(directory.appending("data"))
        let opened = try await storage.openStore()
        let store = CountingStore(opened)
        let secrets = try Secrets(configuration: .inDataDirectory(directory.path, passwordParameters: .minimum, hashingThreads: 1))
        let users = UserDirectory(store: store, clock: ManualWallClock(), secrets: secrets, logger: silentLogger)

        // An account whose administrator Ada is signed in, and a pending member.
        let op = MarketplaceDomain.Actor.operator(uid: 0)
        let asOperator = AccessRequirement.operator(uid: 0)
        let account = try await users.createAccount(name: "A", type: .client, actor: op)
        let admins = try await users.createGroup(accountID: account.id, name: "Admins", isAdministrators: true, actor: op, access: asOperator)
        let ada = try await users.invite(accountID: account.id, email: "ada@example.com", firstName: "Ada", lastName: "L", groupIDs: [admins.id], actor: op, access: asOperator)
        _ = try await users.acceptInvitation(
            token: String(ada.link.split(separator: "/").last!), firstName: "Ada", lastName: "L", password: "Str0ng!pass", acceptTerms: true)
        let target = try await users.invite(accountID: account.id, email: "bob@example.com", firstName: "Bob", lastName: "M", groupIDs: [admins.id], actor: op, access: asOperator)
        let token = try await users.signIn(email: "ada@example.com", password: "Str0ng!pass", peer: "test").token

        let interceptor = AuthorizationInterceptor(
            directory: users, policy: .standard, operators: OperatorPolicy(includesRootAndServerUser: false))
        let service = AccountUsersServiceImpl(directory: users)
        func context(_ method: String) -> RPCContext {
            RPCContext(
                service: "marketplace.users.v1.AccountUsers", method: method, streamID: 1,
                metadata: ["authorization": "Bearer \(token)"], deadline: nil,
                peer: PeerCredentials(pid: 1, uid: 65534, gid: 65534), logger: silentLogger)
        }

        // A read: the session, then the operation's one read transaction.
        let get = GetAccountUserRequest(accountUserId: target.accountUser.id)
        var getContext = context("GetAccountUser")
        store.reset()
        try await interceptor.intercept(request: get, context: &getContext)
        _ = try await service.getAccountUser(get, context: getContext)
        #expect(store.transactions == (reads: 2, writes: 0), "GetAccountUser: \(store.transactions)")

        // A listing by account id.
        let list = ListAccountUsersRequest(accountId: account.id)
        var listContext = context("ListAccountUsers")
        store.reset()
        try await interceptor.intercept(request: list, context: &listContext)
        _ = try await service.listAccountUsers(list, context: listContext)
        #expect(store.transactions == (reads: 2, writes: 0), "ListAccountUsers: \(store.transactions)")

        // A change: the session, then the operation's one write transaction.
        let revoke = RevokeInvitationRequest(accountUserId: target.accountUser.id)
        var revokeContext = context("RevokeInvitation")
        store.reset()
        try await interceptor.intercept(request: revoke, context: &revokeContext)
        _ = try await service.revokeInvitation(revoke, context: revokeContext)
        #expect(store.transactions == (reads: 1, writes: 1), "RevokeInvitation: \(store.transactions)")

        // Fail closed: a handler reached without the interceptor having
        // established an administrator's access refuses, before any transaction.
        var bypassed = context("GetAccountUser")
        bypassed.caller = .user(UserSession(userID: ada.accountUser.user.id, sessionID: "S", currentAccountID: account.id))
        store.reset()
        await #expect(throws: RPCError.self) { _ = try await service.getAccountUser(get, context: bypassed) }
        await #expect(throws: RPCError.self) { _ = try await service.getAccountUser(get, context: context("GetAccountUser")) }
        #expect(store.transactions == (reads: 0, writes: 0))

        // A request of another type than the method's accessor reads is refused.
        var mismatched = context("GetAccountUser")
        await #expect(throws: RPCError.self) {
            try await interceptor.intercept(request: ListAccountUsersRequest(accountId: account.id), context: &mismatched)
        }
        #expect(mismatched.accessTarget == nil)
        await (opened as? any ClosableStore)?.close()
        await storage.remove()
    }
}
