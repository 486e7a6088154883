import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// marketplace.users.v1.Sessions, promise by promise.
@Suite("Conformance: Sessions")
struct SessionsConformanceTests {
    // contract: marketplace.users.v1.Sessions/SignIn UNAUTHENTICATED RESOURCE_EXHAUSTED
    @Test("SignIn: a token, the session and the user; the same refusal for an unknown email and a wrong password; throttled")
    func signIn() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let member = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [staff]).invitationLink)
            let signed = try await client.sessions.signIn(.init(email: "ADA@example.com", password: Conformance.password))
            #expect(signed.token.hasPrefix("ses_") && signed.user?.id == member.user?.id && signed.user?.lastSignInAt != nil)
            let session = try #require(signed.session)
            #expect(session.currentAccountId == acme.id && session.expiresAt != nil && session.idleExpiresAt != nil)
            await expectRPCError(.unauthenticated, "email or password is incorrect") {
                try await client.sessions.signIn(.init(email: "ada@example.com", password: "Wr0ng!password"))
            }
            await expectRPCError(.unauthenticated, "email or password is incorrect") {
                try await client.sessions.signIn(.init(email: "nobody@example.com", password: "Wr0ng!password"))
            }
            var last: StatusCode?
            for _ in 0..<8 {
                do {
                    _ = try await client.sessions.signIn(.init(email: "victim@example.com", password: "guess"))
                } catch let error as RPCError {
                    last = error.code
                    if error.code == .resourceExhausted {
                        #expect(error.message.contains("retry") || error.message.contains("try again"), "\(error.message)")
                        break
                    }
                }
            }
            #expect(last == .resourceExhausted)
        }
    }

    // contract: marketplace.users.v1.Sessions/SignOut UNAUTHENTICATED
    @Test("SignOut: ends the calling session only")
    func signOut() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let (_, first) = try await Conformance.signedIn(f, acme, "ada@example.com", groups: [staff])
            let second = CallOptions.bearer(try await client.sessions.signIn(.init(email: "ada@example.com", password: Conformance.password)).token)
            _ = try await client.sessions.signOut(.init(), options: first)
            await expectRPCError(.unauthenticated) { try await client.sessions.signOut(.init(), options: first) }
            await expectRPCError(.unauthenticated) { try await client.sessions.signOut(.init(), options: Conformance.unknownSession) }
            #expect(try await client.sessions.listMyAccounts(.init(), options: second).accounts.count == 1)
        }
    }

    // contract: marketplace.users.v1.Sessions/ListMyAccounts UNAUTHENTICATED
    // contract: marketplace.users.v1.Sessions/SwitchAccount UNAUTHENTICATED PERMISSION_DENIED INVALID_ARGUMENT
    @Test("ListMyAccounts and SwitchAccount: the user's accounts, which is current, and moving between them")
    func accountsAndSwitch() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, acmeAdmins, _) = try await f.accountWithGroups("Acme")
            let (globex, _, globexStaff) = try await f.accountWithGroups("Globex")
            let (initech, _, initechStaff) = try await f.accountWithGroups("Initech")
            let (umbrella, _, umbrellaStaff) = try await f.accountWithGroups("Umbrella")
            let (_, ada) = try await Conformance.signedIn(f, acme, "ada@example.com", groups: [acmeAdmins])
            _ = try await f.accept(try await f.invite(globex, "ada@example.com", groups: [globexStaff]).invitationLink)
            let blocked = try await f.accept(try await f.invite(initech, "ada@example.com", groups: [initechStaff]).invitationLink)
            _ = try await client.accountUsers.blockAccountUser(.init(accountUserId: blocked.id))
            _ = try await f.invite(umbrella, "ada@example.com", groups: [umbrellaStaff])

            let mine = try await client.sessions.listMyAccounts(.init(), options: ada).accounts
            let acmeEntry = try #require(mine.first { $0.account?.id == acme.id })
            #expect(acmeEntry.isCurrent && acmeEntry.isAdministrator && acmeEntry.status == .active)
            #expect(mine.first { $0.account?.id == globex.id }.map { !$0.isCurrent && !$0.isAdministrator } == true)
            let switched = try await client.sessions.switchAccount(.init(accountId: globex.id), options: ada)
            #expect(switched.session?.currentAccountId == globex.id)
            #expect(try await client.sessions.listMyAccounts(.init(), options: ada).accounts.first { $0.isCurrent }?.account?.id == globex.id)

            await expectRPCError(.permissionDenied, "blocked") { try await client.sessions.switchAccount(.init(accountId: initech.id), options: ada) }
            await expectRPCError(.permissionDenied) { try await client.sessions.switchAccount(.init(accountId: umbrella.id), options: ada) }
            await expectRPCError(.permissionDenied) { try await client.sessions.switchAccount(.init(accountId: "ACC-0000-0000"), options: ada) }
            await expectRPCError(.invalidArgument, "account_id") { try await client.sessions.switchAccount(.init(accountId: "acme"), options: ada) }
            await expectRPCError(.unauthenticated) { try await client.sessions.switchAccount(.init(accountId: acme.id), options: Conformance.unknownSession) }
            await expectRPCError(.unauthenticated) { try await client.sessions.listMyAccounts(.init(), options: Conformance.unknownSession) }
        }
    }
}
