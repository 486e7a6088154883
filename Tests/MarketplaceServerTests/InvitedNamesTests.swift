import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

private let password = "Str0ng!pass"

/// Issue 10, item 4 (the rest of it): the administrators of an account that
/// merely invited an existing login must not see that person's own data (the
/// names they chose for their other accounts, phone, last sign-in, whether
/// they have a password) before the person accepts. Until then the membership
/// shows the person as the inviting administrator typed them; after, as the
/// person is.
@Suite("Invited names")
struct InvitedNamesTests {
    @Test("an invited existing login is shown as typed (names, phone, no sign-in) until they accept, then as they are")
    func invitedExistingLoginShownAsTyped() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            // Ada has a login of her own, with her own names, and has signed in.
            let (acme, acmeAdmins, _) = try await f.accountWithGroups("Acme")
            _ = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [acmeAdmins]).invitationLink, password: password)
            _ = try await client.sessions.signIn(.init(email: "ada@example.com", password: password))

            // Mallory administers Evil and signs in after Ada did.
            let (evil, evilAdmins, evilStaff) = try await f.accountWithGroups("Evil")
            let (_, mallory) = try await Conformance.signedIn(f, evil, "mallory@evil.example", groups: [evilAdmins], first: "Mal", last: "Lory")
            let invitation = try await client.accountUsers.inviteUser(.init(
                accountId: evil.id, email: "ada@example.com", firstName: "Probe", lastName: "One", phone: "+15550100",
                groupIds: [evilStaff.id]), options: mallory)
            let invited = try #require(invitation.accountUser)

            func expectAsTyped(_ member: AccountUser?, _ what: String) {
                guard let user = member?.user else {
                    Issue.record("\(what): no user")
                    return
                }
                #expect(user.firstName == "Probe" && user.lastName == "One", "\(what) shows the login's own names: \(user)")
                #expect(user.phone == "+15550100" && user.lastSignInAt == nil && !user.hasPassword, "\(what): \(user)")
            }
            expectAsTyped(invited, "InviteUser")
            expectAsTyped(try await client.accountUsers.getAccountUser(.init(accountUserId: invited.id), options: mallory).accountUser, "GetAccountUser")
            let listed = try await client.accountUsers.listAccountUsers(.init(accountId: evil.id), options: mallory).accountUsers
            expectAsTyped(listed.first { $0.id == invited.id }, "ListAccountUsers")
            // Nor through the text query or the sort orders: her own name finds
            // nothing, and she sorts as someone who never signed in (last).
            let byOwnName = try await client.accountUsers.listAccountUsers(.init(accountId: evil.id, query: "lovelace"), options: mallory)
            #expect(byOwnName.accountUsers.isEmpty, "the query found the login by its own name: \(byOwnName.accountUsers.map(\.id))")
            let byTypedName = try await client.accountUsers.listAccountUsers(.init(accountId: evil.id, query: "probe"), options: mallory)
            #expect(byTypedName.accountUsers.map(\.id) == [invited.id])
            let bySignIn = try await client.accountUsers.listAccountUsers(.init(accountId: evil.id, sort: .lastSignIn), options: mallory)
            #expect(bySignIn.accountUsers.last?.id == invited.id, "sorted by her own last sign-in: \(bySignIn.accountUsers.map(\.user?.firstName))")

            // Ada accepts: from now on Evil sees her as she is.
            let adaAccepts = try await client.invitations.acceptInvitation(.init(
                token: token(of: invitation.invitationLink),
                firstName: "Ignored", lastName: "Ignored", password: password, acceptTerms: true))
            #expect(adaAccepts.accountUser?.user?.firstName == "Ada")
            let joined = try #require(try await client.accountUsers.getAccountUser(.init(accountUserId: invited.id), options: mallory).accountUser?.user)
            #expect(joined.firstName == "Ada" && joined.lastName == "Lovelace" && joined.hasPassword, "\(joined)")
            let found = try await client.accountUsers.listAccountUsers(.init(accountId: evil.id, query: "lovelace"), options: mallory)
            #expect(found.accountUsers.map(\.id) == [invited.id])
        }
    }

    @Test("a new person invited is shown with the names typed, then with the names they chose when accepting")
    func newPersonShownAsTypedThenAsChosen() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, _) = try await f.accountWithGroups("Acme")
            let invitation = try await f.invite(acme, "grace@example.com", groups: [admins], first: "Grace", last: "Typed")
            let invited = try #require(invitation.accountUser)
            let before = try #require(try await client.accountUsers.getAccountUser(.init(accountUserId: invited.id)).accountUser?.user)
            #expect(before.firstName == "Grace" && before.lastName == "Typed")
            _ = try await client.invitations.acceptInvitation(.init(
                token: token(of: invitation.invitationLink),
                firstName: "Grace", lastName: "Hopper", password: password, acceptTerms: true))
            let after = try #require(try await client.accountUsers.getAccountUser(.init(accountUserId: invited.id)).accountUser?.user)
            #expect(after.firstName == "Grace" && after.lastName == "Hopper")
            let found = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, query: "hopper")).accountUsers
            #expect(found.map(\.id) == [invited.id])
        }
    }

    /// Migration 0007 on a database written before it: memberships pending at
    /// the upgrade stop showing an existing login's own names.
    @Test(
        "at the upgrade, a pending invitation of an existing login stops showing the login's names",
        .sqliteOnly("rewrites the SQLite file back to its schema before migration 0007"))
    func pendingAtUpgrade() async throws {
        let directory = try TemporaryDirectory(prefix: "mig7")
        defer { directory.remove() }
        let (evil, ada, grace) = try await withUsersServer(in: directory) { _, client in
            let f = Fixture(client: client)
            let (acme, acmeAdmins, _) = try await f.accountWithGroups("Acme")
            _ = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [acmeAdmins]).invitationLink, password: password)
            let (evil, evilAdmins, _) = try await f.accountWithGroups("Evil")
            let ada = try #require(try await f.invite(evil, "ada@example.com", groups: [evilAdmins], first: "Probe", last: "One").accountUser)
            let grace = try #require(try await f.invite(evil, "grace@example.com", groups: [evilAdmins], first: "Grace", last: "Typed").accountUser)
            return (evil, ada, grace)
        }
        // The table as 0006 left it: no typed names, sort keys of the users' own names.
        let database = directory.appending("data") + "/users.sqlite"
        let old = """
            ALTER TABLE account_users DROP COLUMN invited_first_name;
            ALTER TABLE account_users DROP COLUMN invited_last_name;
            ALTER TABLE account_users DROP COLUMN invited_phone;
            UPDATE account_users SET sort_name = (SELECT lower(last_name || char(1) || first_name) FROM users WHERE users.id = account_users.user_id);
            DELETE FROM grdb_migrations WHERE identifier = '0007-invited-person';
            """
        let reverted = try await runProcess("/usr/bin/sqlite3", ["-cmd", ".timeout 5000", database, old])
        try #require(reverted.status == 0, "\(reverted.stderr)")
        try await withUsersServer(in: directory) { _, client in
            let shownAda = try #require(try await client.accountUsers.getAccountUser(.init(accountUserId: ada.id)).accountUser?.user)
            #expect(shownAda.firstName.isEmpty && shownAda.lastName.isEmpty && !shownAda.hasPassword, "\(shownAda)")
            let shownGrace = try #require(try await client.accountUsers.getAccountUser(.init(accountUserId: grace.id)).accountUser?.user)
            #expect(shownGrace.firstName == "Grace" && shownGrace.lastName == "Typed")
            let found = try await client.accountUsers.listAccountUsers(.init(accountId: evil.id, query: "lovelace")).accountUsers
            #expect(found.isEmpty, "found by the login's own name after the upgrade: \(found.map(\.id))")
        }
    }
}
