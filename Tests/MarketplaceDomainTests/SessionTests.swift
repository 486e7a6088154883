import Foundation
import Logging
import MarketplaceDomain
import MarketplaceTestSupport
import MarketplaceSQLite
import Testing

@Suite struct SessionTests {
    static let incorrect = "email or password is incorrect"
    static let expired = "session expired or unknown; sign in again"

    @Test func signInStartsSessionAndAuthenticates() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            let member = try await f.join("jane@example.com", account, [staff])
            let now = f.clock.now()
            let signed = try await f.directory.signIn(email: " JANE@example.com", password: Fixture.password, peer: "uid:1000")
            #expect(signed.token.count == 47)  // "ses_" + 43 base64url characters
            #expect(Session.isValidID(signed.session.id))
            #expect(signed.session.userID == member.user.id && signed.session.currentAccountID == account.id)
            #expect(signed.session.createdAt == now && signed.session.lastUsedAt == now)
            #expect(signed.session.expiresAt == now.addingTimeInterval(12 * 3600))
            #expect(signed.session.idleExpiresAt == now.addingTimeInterval(30 * 60))
            #expect(signed.user.lastSignInAt == now)
            #expect(try await f.directory.user(id: member.user.id).lastSignInAt == now)
            #expect(try await f.directory.authenticate(token: signed.token) == signed.session)
            // Two sign-ins are two sessions with different tokens.
            let again = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            #expect(again.token != signed.token && again.session.id != signed.session.id)
            // Sign-in, sign-out and switch are not account actions.
            let auditCount = try await f.directory.auditTrail(accountID: account.id, access: Fixture.operatorAccess).items.count
            try await f.directory.signOut(sessionID: signed.session.id)
            try await f.directory.signOut(sessionID: signed.session.id)  // idempotent
            #expect(try await f.directory.auditTrail(accountID: account.id, access: Fixture.operatorAccess).items.count == auditCount)
            let gone = await expectDomainError(.unauthenticated) { try await f.directory.authenticate(token: signed.token) }
            #expect(gone?.message == Self.expired)
            #expect(try await f.directory.authenticate(token: again.token).id == again.session.id)
            for bad in ["", "not-a-token", String(repeating: "A", count: 43), String(signed.token.dropLast())] {
                let error = await expectDomainError(.unauthenticated) { try await f.directory.authenticate(token: bad) }
                #expect(error?.message == Self.expired)
            }
            await expectDomainError(.invalidArgument) { try await f.directory.signOut(sessionID: "SES-XYZ") }
        }
    }

    @Test func wrongPasswordUnknownEmailAndNoLoginLookTheSame() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            let member = try await f.join("jane@example.com", account, [staff])
            _ = try await f.directory.invite(
                accountID: account.id, email: "nopass@example.com", firstName: "N", lastName: "P", groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            let bob = try await f.join("bob@example.com", account, [staff])
            _ = try await f.directory.deleteUser(id: bob.user.id, actor: Fixture.admin)
            let attempts: [(String, String)] = [
                ("jane@example.com", "Wrong-Horse-9"), ("nobody@example.com", Fixture.password), ("not an email", Fixture.password),
                ("nopass@example.com", Fixture.password), ("bob@example.com", Fixture.password), ("jane@example.com", ""),
            ]
            for (email, password) in attempts {
                let error = await expectDomainError(.unauthenticated) {
                    try await f.directory.signIn(email: email, password: password, peer: "uid:\(email.count)")
                }
                #expect(error?.message == Self.incorrect, "\(email)")
            }
            #expect(try await f.directory.user(id: member.user.id).lastSignInAt == nil)
        }
    }

    @Test func currentAccountIsTheActiveOneUsedMostRecently() async throws {
        try await withFixture { f in
            let (a, _, aStaff) = try await f.makeAccount("A")
            let (b, _, bStaff) = try await f.makeAccount("B")
            let (c, _, cStaff) = try await f.makeAccount("C")
            try await f.join("jane@example.com", a, [aStaff])
            f.clock.advance(by: .seconds(60))
            let inB = try await f.join("jane@example.com", b, [bStaff])
            // Most recently joined wins while no account was used.
            var signed = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            #expect(signed.session.currentAccountID == b.id)
            f.clock.advance(by: .seconds(60))
            _ = try await f.directory.switchAccount(sessionID: signed.session.id, accountID: a.id)
            signed = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            #expect(signed.session.currentAccountID == a.id)
            // A blocked or not yet joined membership is never chosen.
            f.clock.advance(by: .seconds(60))
            _ = try await f.directory.invite(accountID: c.id, email: "jane@example.com", firstName: "J", lastName: "D", groupIDs: [cStaff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            _ = try await f.directory.switchAccount(sessionID: signed.session.id, accountID: b.id)
            _ = try await f.directory.block(accountUserID: inB.id, actor: Fixture.admin, access: Fixture.operatorAccess)
            signed = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            #expect(signed.session.currentAccountID == a.id)
            // A user with no account signs in with no current account.
            let (d, _, dStaff) = try await f.makeAccount("D")
            let lone = try await f.join("lone@example.com", d, [dStaff])
            _ = try await f.directory.remove(accountUserID: lone.id, actor: Fixture.admin, access: Fixture.operatorAccess)
            let loner = try await f.directory.signIn(email: "lone@example.com", password: Fixture.password, peer: "")
            #expect(loner.session.currentAccountID == nil)
            #expect(try await f.directory.myAccounts(userID: lone.user.id).isEmpty)
        }
    }

    @Test func throttlePerEmailSaysWhenToRetryAndSuccessResets() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            try await f.join("jane@example.com", account, [staff])
            let signIn = { (password: String) in
                try await f.directory.signIn(email: "jane@example.com", password: password, peer: "")
            }
            // Four failures, a success, then four more: the success cleared the count.
            for _ in 0..<4 { await expectDomainError(.unauthenticated) { try await signIn("Wrong-1a!") } }
            _ = try await signIn(Fixture.password)
            for _ in 0..<5 { await expectDomainError(.unauthenticated) { try await signIn("Wrong-1a!") } }
            // The sixth attempt is refused without checking, even with the right password.
            f.clock.advance(by: .seconds(60))
            let refused = await expectDomainError(.resourceExhausted) { try await signIn(Fixture.password) }
            #expect(refused?.message == "too many failed sign-ins; try again in 840 seconds")
            // Other spellings of the email share the counter; other emails are unaffected.
            await expectDomainError(.resourceExhausted) {
                try await f.directory.signIn(email: " JANE@EXAMPLE.COM ", password: Fixture.password, peer: "")
            }
            await expectDomainError(.unauthenticated) { try await f.directory.signIn(email: "other@example.com", password: "x", peer: "") }
            f.clock.advance(by: .seconds(840))
            _ = try await signIn(Fixture.password)
        }
    }

    /// Issue 10 item 6 (contract changed): a peer's failures never refuse
    /// another person's correct password from that peer; they only shrink the
    /// peer's share of the hashing (``SignInThrottleTests``).
    @Test func peerFailuresNeverRefuseACorrectPassword() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            try await f.join("jane@example.com", account, [staff])
            for i in 0..<25 {
                await expectDomainError(.unauthenticated) {
                    try await f.directory.signIn(email: "guess\(i)@example.com", password: "Guess-1a!", peer: "uid:1000")
                }
            }
            _ = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "uid:1000")
            _ = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "uid:1001")
        }
    }

    @Test func absoluteAndIdleExpiry() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            try await f.join("jane@example.com", account, [staff])
            // Idle: used every 29 minutes it lives; 31 idle minutes end it.
            let idle = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            f.clock.advance(by: .seconds(29 * 60))
            _ = try await f.directory.authenticate(token: idle.token)
            f.clock.advance(by: .seconds(29 * 60))
            _ = try await f.directory.authenticate(token: idle.token)
            f.clock.advance(by: .seconds(30 * 60))
            let error = await expectDomainError(.unauthenticated) { try await f.directory.authenticate(token: idle.token) }
            #expect(error?.message == Self.expired)
            await expectDomainError(.unauthenticated) { try await f.directory.switchAccount(sessionID: idle.session.id, accountID: account.id) }
            // Absolute: however often it is used, it ends 12 hours after sign-in.
            let busy = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            for _ in 0..<(12 * 3) {
                f.clock.advance(by: .seconds(20 * 60) - .milliseconds(1))
                _ = try await f.directory.authenticate(token: busy.token)
            }
            #expect(f.clock.now() < busy.session.expiresAt)
            f.clock.set(busy.session.expiresAt)
            await expectDomainError(.unauthenticated) { try await f.directory.authenticate(token: busy.token) }
            // The next sign-in clears expired sessions from storage.
            #expect(try await f.storedSession(busy.session.id) != nil)
            _ = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            #expect(try await f.storedSession(busy.session.id) == nil)
            #expect(try await f.storedSession(idle.session.id) == nil)
        }
    }

    @Test func lastUseIsRecordedAtMostOncePerMinute() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            try await f.join("jane@example.com", account, [staff])
            let signed = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            let start = signed.session.lastUsedAt
            f.clock.advance(by: .seconds(30))
            #expect(try await f.directory.authenticate(token: signed.token).lastUsedAt == start)
            #expect(try await f.storedSession(signed.session.id)?.lastUsedAt == start)
            f.clock.advance(by: .seconds(30))
            let touched = try await f.directory.authenticate(token: signed.token)
            #expect(touched.lastUsedAt == start.addingTimeInterval(60))
            #expect(touched.idleExpiresAt == start.addingTimeInterval(60 + 30 * 60))
            #expect(try await f.storedSession(signed.session.id)?.lastUsedAt == start.addingTimeInterval(60))
            f.clock.advance(by: .seconds(59))
            #expect(try await f.directory.authenticate(token: signed.token).lastUsedAt == start.addingTimeInterval(60))
            #expect(try await f.storedSession(signed.session.id)?.lastUsedAt == start.addingTimeInterval(60))
        }
    }

    @Test func accessFollowsBlockRemoveAndDeleteAtOnce() async throws {
        try await withFixture { f in
            let (account, admins, staff) = try await f.makeAccount()
            let (other, _, _) = try await f.makeAccount("Other")
            let admin = try await f.join("admin@example.com", account, [admins, staff])
            let worker = try await f.join("worker@example.com", account, [staff])
            let signed = try await f.directory.signIn(email: "admin@example.com", password: Fixture.password, peer: "")
            let access = { try await f.directory.access(userID: admin.user.id, accountID: account.id) }
            #expect(try await access() == AccountAccess(accountUserID: admin.id, status: .active, isAdministrator: true))
            #expect(try await f.directory.access(userID: worker.user.id, accountID: account.id) == AccountAccess(accountUserID: worker.id, status: .active, isAdministrator: false))
            #expect(try await f.directory.access(userID: admin.user.id, accountID: other.id) == .none)
            #expect(try await f.directory.access(userID: "USR-0000-0000", accountID: account.id) == .none)
            await expectDomainError(.invalidArgument) { try await f.directory.access(userID: "bad", accountID: account.id) }

            _ = try await f.directory.block(accountUserID: admin.id, actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(try await access() == AccountAccess(accountUserID: admin.id, status: .blocked, isAdministrator: false))
            _ = try await f.directory.unblock(accountUserID: admin.id, actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(try await access().isAdministrator)
            _ = try await f.directory.remove(accountUserID: admin.id, actor: Fixture.admin, access: Fixture.operatorAccess)
            #expect(try await access() == AccountAccess(accountUserID: admin.id, status: .disabled, isAdministrator: false))
            // The session itself still works (a user with no account), until the user is deleted.
            #expect(try await f.directory.authenticate(token: signed.token).userID == admin.user.id)
            _ = try await f.directory.deleteUser(id: admin.user.id, actor: Fixture.admin)
            #expect(try await access().status == .deleted)
            await expectDomainError(.unauthenticated) { try await f.directory.authenticate(token: signed.token) }
            #expect(try await f.storedSession(signed.session.id) == nil)

            // The operations read the same rights in their own transaction.
            let asWorker = AccessRequirement.administrator(userID: worker.user.id, accountID: account.id, target: account.id)
            await expectDomainError(.permissionDenied) { try await f.directory.listAccountUsers(accountID: account.id, access: asWorker) }
        }
    }

    @Test func switchAccountRulesAndMyAccounts() async throws {
        try await withFixture { f in
            let (a, aAdmins, _) = try await f.makeAccount("Alpha")
            let (b, _, bStaff) = try await f.makeAccount("Beta")
            let (c, _, cStaff) = try await f.makeAccount("Gamma")
            let (d, _, _) = try await f.makeAccount("Delta")
            let inA = try await f.join("jane@example.com", a, [aAdmins])
            let inB = try await f.join("jane@example.com", b, [bStaff])
            _ = try await f.directory.block(accountUserID: inB.id, actor: Fixture.admin, access: Fixture.operatorAccess)
            _ = try await f.directory.invite(accountID: c.id, email: "jane@example.com", firstName: "J", lastName: "D", groupIDs: [cStaff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            let signed = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            let id = signed.session.id

            let blocked = await expectDomainError(.permissionDenied) { try await f.directory.switchAccount(sessionID: id, accountID: b.id) }
            #expect(blocked?.message == "your access to \(b.id) is blocked")
            await expectDomainError(.permissionDenied) { try await f.directory.switchAccount(sessionID: id, accountID: c.id) }
            await expectDomainError(.permissionDenied) { try await f.directory.switchAccount(sessionID: id, accountID: d.id) }
            await expectDomainError(.permissionDenied) { try await f.directory.switchAccount(sessionID: id, accountID: "ACC-0000-0000") }
            await expectDomainError(.invalidArgument) { try await f.directory.switchAccount(sessionID: id, accountID: "nope") }

            f.clock.advance(by: .seconds(10))
            let switched = try await f.directory.switchAccount(sessionID: id, accountID: a.id)
            #expect(switched.currentAccountID == a.id && switched.lastUsedAt == f.clock.now())
            #expect(try await f.directory.accountUser(id: inA.id, access: Fixture.operatorAccess).lastAccessAt == f.clock.now())
            #expect(try await f.directory.authenticate(token: signed.token) == switched)

            let mine = try await f.directory.myAccounts(userID: inA.user.id)
            #expect(mine.map(\.account.id) == [a.id, b.id])
            #expect(mine.map(\.status) == [.active, .blocked])
            #expect(mine.map(\.isAdministrator) == [true, false])
            #expect(mine.map(\.accountUserID) == [inA.id, inB.id])

            try await f.directory.signOut(sessionID: id)
            await expectDomainError(.unauthenticated) { try await f.directory.switchAccount(sessionID: id, accountID: a.id) }
        }
    }

    @Test func changePasswordEndsOtherSessionsButKeepsTheCurrent() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            let member = try await f.join("jane@example.com", account, [staff])
            let userID = member.user.id
            let current = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            let other = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            let change = { (old: String, new: String) in
                try await f.directory.changePassword(userID: userID, sessionID: current.session.id, currentPassword: old, newPassword: new)
            }
            let wrong = await expectDomainError(.unauthenticated) { try await change("Wrong-Horse-9", "New-Horse-10") }
            #expect(wrong?.message == "current_password: is incorrect")
            let weak = await expectDomainError(.invalidArgument) { try await change(Fixture.password, "newhorse") }
            #expect(weak?.message == "new_password must contain an uppercase letter, a digit and a special character")
            let same = await expectDomainError(.invalidArgument) { try await change(Fixture.password, Fixture.password) }
            #expect(same?.message.contains("differ") == true)
            // Another user's session cannot be used.
            let bob = try await f.join("bob@example.com", account, [staff])
            await expectDomainError(.unauthenticated) {
                try await f.directory.changePassword(userID: bob.user.id, sessionID: current.session.id, currentPassword: Fixture.password, newPassword: "New-Horse-10")
            }
            #expect(try await f.directory.authenticate(token: other.token).id == other.session.id)

            try await change(Fixture.password, "New-Horse-10")
            #expect(try await f.directory.authenticate(token: current.token).id == current.session.id)
            await expectDomainError(.unauthenticated) { try await f.directory.authenticate(token: other.token) }
            #expect(try await f.storedSession(other.session.id) == nil)
            await expectDomainError(.unauthenticated) { try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "") }
            _ = try await f.directory.signIn(email: "jane@example.com", password: "New-Horse-10", peer: "")
        }
    }

    @Test func rehashOnSignInWhenParametersChange() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            let member = try await f.join("jane@example.com", account, [staff])
            let storedHash = { try await f.store.read { r in try r.passwordHash(userID: member.user.id) } }
            let before = try #require(try await storedHash())
            let stronger = PasswordParameters(opsLimit: PasswordParameters.minimum.opsLimit + 1, memLimit: PasswordParameters.minimum.memLimit)
            let secrets = try Secrets(configuration: .inDataDirectory(f.dataDirectory, passwordParameters: stronger, hashingThreads: 1))
            let upgraded = UserDirectory(store: f.store, clock: f.clock, secrets: secrets, logger: Logger(label: "test"))
            #expect(upgraded.passwordNeedsRehash(before))
            // Same parameters: nothing changes.
            _ = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            #expect(try await storedHash() == before)
            _ = try await upgraded.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            let after = try #require(try await storedHash())
            #expect(after != before && !upgraded.passwordNeedsRehash(after))
            _ = try await upgraded.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            #expect(try await storedHash() == after)
        }
    }

    @Test func databaseHoldsNoClearToken() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            try await f.join("jane@example.com", account, [staff])
            let signed = try await f.directory.signIn(email: "jane@example.com", password: Fixture.password, peer: "")
            let stored = try #require(try await f.storedSession(signed.session.id))
            #expect(stored.tokenHash == f.secrets.tokenHash(signed.token, kind: .session))
            var base64 = signed.token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            let raw = try #require(Data(base64Encoded: base64))
            if let database = f.storage.database {
                // Every row, as pg_dump writes it (bytea in hex).
                let dump = try await database.dump()
                #expect(dump.contains("CREATE TABLE"), "the dump has the schema")
                #expect(!dump.contains(signed.token), "the database contains the token")
                let hex = raw.map { String(format: "%02x", $0) }.joined()
                #expect(!dump.lowercased().contains(hex), "the database contains the token's bytes")
                return
            }
            var files = 0
            for name in try FileManager.default.contentsOfDirectory(atPath: f.dataDirectory) where name.hasPrefix("users.sqlite") {
                let data = try Data(contentsOf: URL(fileURLWithPath: f.dataDirectory + "/" + name))
                #expect(data.range(of: Data(signed.token.utf8)) == nil, "\(name) contains the token")
                #expect(data.range(of: raw) == nil, "\(name) contains the token's bytes")
                files += 1
            }
            #expect(files > 0, "no database file was searched")
        }
    }
}
