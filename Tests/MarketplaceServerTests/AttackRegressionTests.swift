import Foundation
import MarketplaceClient
import MarketplaceRPC
import MarketplaceServer
import MarketplaceTestSupport
import Testing

private let password = "Str0ng!pass"

/// The attacks of issue 10 that belong to the domain and storage, each replayed
/// through the real client (or raw frames) against the real server.
@Suite("Attacks on the domain and storage (issue 10)")
struct AttackRegressionTests {
    private func accept(_ client: MarketplaceClient, _ token: String, _ password: String) async throws -> AcceptInvitationResponse {
        try await client.invitations.acceptInvitation(.init(
            token: token, firstName: "Eve", lastName: "Guess", password: password, acceptTerms: true))
    }

    /// Item 1: an administrator of another account invites an existing login
    /// and guesses its password through AcceptInvitation.
    // contract: marketplace.users.v1.Invitations/AcceptInvitation RESOURCE_EXHAUSTED
    // contract: marketplace.users.v1.Sessions/SignIn INVALID_ARGUMENT
    @Test("AcceptInvitation by an existing login shares the sign-in throttle, caps the password and audits failures")
    func acceptInvitationGuessing() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, _) = try await f.accountWithGroups("Acme")
            _ = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [admins]).invitationLink, password: password)
            let (evil, evilAdmins, _) = try await f.accountWithGroups("Evil")
            let link = try await f.invite(evil, "ada@example.com", groups: [evilAdmins]).invitationLink
            let invitation = token(of: link)

            // A password past the documented byte limit is refused before any hashing, on every path.
            let huge = String(repeating: "é", count: 600)  // 600 characters, 1,200 bytes
            await expectRPCError(.invalidArgument, "password: must be at most 1024 bytes") {
                try await accept(client, invitation, huge)
            }
            await expectRPCError(.invalidArgument, "password: must be at most 1024 bytes") {
                try await client.sessions.signIn(.init(email: "ada@example.com", password: huge))
            }

            for _ in 0..<5 {
                await expectRPCError(.unauthenticated) { try await accept(client, invitation, "Wrong!pass1") }
            }
            // The email is now locked for every path that checks its password, the right guess included.
            await expectRPCError(.resourceExhausted, "too many failed") { try await accept(client, invitation, password) }
            await expectRPCError(.resourceExhausted, "too many failed") {
                try await client.sessions.signIn(.init(email: "ada@example.com", password: password))
            }
            // Each wrong guess is in the inviting account's audit trail, without the password.
            let events = try await client.audit.listAuditEvents(.init(accountId: evil.id)).events
            let failures = events.filter { $0.action == "invitation.accept_failed" }
            #expect(failures.count == 5, "\(events.map(\.action))")
            #expect(!events.contains { $0.details.contains("Wrong") || $0.details.contains(password) })
        }
    }

    /// Item 6: many bad passwords from one uid must not lock out the other people signing in from it.
    @Test("failures from one peer never refuse another person's correct password from that peer")
    func peerBudgetNeverRefusesACorrectPassword() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, _) = try await f.accountWithGroups("Acme")
            _ = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [admins]).invitationLink, password: password)
            for i in 0..<25 {
                await expectRPCError(.unauthenticated) {
                    try await client.sessions.signIn(.init(email: "victim\(i)@example.com", password: "Wrong!pass1"))
                }
            }
            let signedIn = try await client.sessions.signIn(.init(email: "ada@example.com", password: password))
            #expect(!signedIn.token.isEmpty)
        }
    }

    /// Item 3: a "one character" name of 1.9 MB.
    @Test("text limits hold in UTF-8 bytes: a + 950,000 combining marks is INVALID_ARGUMENT naming the field")
    func byteLimits() async throws {
        try await withUsersServer { _, client in
            let zalgo = "a" + String(repeating: "\u{301}", count: 950_000)
            #expect(zalgo.count == 1)
            await expectRPCError(.invalidArgument, "name: must be at most") {
                try await client.accounts.createAccount(.init(name: zalgo, type: .client))
            }
            let f = Fixture(client: client)
            let (acme, admins, _) = try await f.accountWithGroups("Acme")
            let longName = "a" + String(repeating: "\u{301}", count: 250)  // 1 character, 501 bytes
            await expectRPCError(.invalidArgument, "first_name: must be at most") {
                try await f.invite(acme, "bob@example.com", groups: [admins], first: longName)
            }
            await expectRPCError(.invalidArgument, "query: must be at most") {
                try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, query: zalgo))
            }
        }
    }

    /// Item 4: InviteUser and ShowInvitation of an existing login.
    @Test("inviting an existing email reveals neither the login nor its personal data")
    func inviteRevealsNothing() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, _) = try await f.accountWithGroups("Acme")
            _ = try await f.accept(try await f.invite(acme, "ada@example.com", groups: [admins]).invitationLink, password: password)
            _ = try await client.sessions.signIn(.init(email: "ada@example.com", password: password))

            let (evil, evilAdmins, _) = try await f.accountWithGroups("Evil")
            let known = try await f.invite(evil, "ada@example.com", groups: [evilAdmins], first: "Probe", last: "One")
            let unknown = try await f.invite(evil, "nobody@example.com", groups: [evilAdmins], first: "Probe", last: "One")
            for response in [known, unknown] {
                let user = try #require(response.accountUser?.user)
                #expect(user.firstName == "Probe" && user.lastName == "One", "\(user)")
                #expect(user.lastSignInAt == nil && user.phone.isEmpty && !user.hasPassword, "\(user)")
            }
            let shownKnown = try await client.invitations.showInvitation(.init(token: token(of: known.invitationLink))).invitation
            let shownUnknown = try await client.invitations.showInvitation(.init(token: token(of: unknown.invitationLink))).invitation
            #expect(shownKnown?.hasLogin == shownUnknown?.hasLogin)

            // Probing an unknown email leaves no user once its invitation ends unaccepted.
            _ = try await client.accountUsers.revokeInvitation(.init(accountUserId: try #require(unknown.accountUser).id))
            await expectRPCError(.notFound) { try await client.users.findUserByEmail(.init(email: "nobody@example.com")) }
            let declined = try await f.invite(evil, "carol@example.com", groups: [evilAdmins])
            _ = try await client.invitations.declineInvitation(.init(token: token(of: declined.invitationLink)))
            await expectRPCError(.notFound) { try await client.users.findUserByEmail(.init(email: "carol@example.com")) }
            // Re-inviting after that works as for a new person.
            _ = try await f.invite(evil, "nobody@example.com", groups: [evilAdmins])
        }
    }

    /// Item 7: an existing data directory that others can read.
    @Test("data files are 0600 and a data directory open to others is tightened to 0700")
    func dataFileModes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.appending("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
        chmod(data, 0o755)
        try await withUsersServer(in: directory) { _, client in
            _ = try await Fixture(client: client).account("Acme")
            func mode(_ path: String) throws -> Int {
                try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
            }
            #expect(try mode(data) == 0o700)
            for file in ["users.sqlite", "users.sqlite-wal", "users.sqlite-shm", "secrets.key"] {
                let path = (data as NSString).appendingPathComponent(file)
                guard FileManager.default.fileExists(atPath: path) else { continue }
                let actual = try mode(path)
                #expect(actual == 0o600, "\(file): \(String(actual, radix: 8))")
            }
        }
    }

    /// Item 8: NUL truncation, invisible and bidi characters, controls.
    @Test("embedded NUL, controls, bidi overrides and invisible-only names are INVALID_ARGUMENT naming the field")
    func hostileCharacters() async throws {
        try await withUsersServer { server, client in
            let raw = try RawConnection(path: server.rpc.socketPath, timeout: 5 * slowdown)
            // CreateAccountRequest { name = "Acme\0Evil", type = CLIENT }
            let create = Wire.field(1, Array("Acme\0Evil".utf8)) + [0x10, 0x01]
            try await raw.send(requestFrame(streamID: 1, service: "marketplace.users.v1.Accounts", method: "CreateAccount", payload: create))
            let status = try await raw.readFrame().response().status ?? TTRPCStatus()
            #expect(status.code == StatusCode.invalidArgument.rawValue, "\(status)")
            #expect(status.message.contains("name"), "\(status.message)")

            let account = try await Fixture(client: client).account("Acme")
            let get = Wire.field(1, Array((account.id + "\0junk").utf8))
            try await raw.send(requestFrame(streamID: 3, service: "marketplace.users.v1.Accounts", method: "GetAccount", payload: get))
            let found = try await raw.readFrame().response().status ?? TTRPCStatus()
            #expect(found.code == StatusCode.invalidArgument.rawValue, "\(found)")
            #expect(found.message.contains("account_id"), "\(found.message)")

            for name in ["\u{200B}", "Acme\u{202E}live", "Acme\u{2066}x", "Acme\u{85}x", "Acme\u{9B}x", "Acme\u{7F}"] {
                await expectRPCError(.invalidArgument, "name") {
                    try await client.accounts.createAccount(.init(name: name, type: .client))
                }
            }
        }
    }

    /// Item 7 of issue 10 / 11: page tokens are bound to their query and bounded.
    @Test("a page token replayed with another query, filter or sort is refused; tokens stay small")
    func pageTokensAreBound() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups("Acme")
            let long = String(repeating: "a", count: 100)
            for i in 0..<3 {
                _ = try await f.invite(acme, "user\(i)@example.com", groups: [admins], first: long, last: long)
            }
            let first = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, query: "user", pageSize: 1))
            let pageToken = first.nextPageToken
            #expect(!pageToken.isEmpty)
            #expect(pageToken.utf8.count <= 256, "\(pageToken.utf8.count) bytes")
            #expect(!pageToken.contains(long.prefix(20)))
            _ = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, query: "user", pageSize: 1, pageToken: pageToken))
            for replay in [
                ListAccountUsersRequest(accountId: acme.id, query: "other", pageSize: 1, pageToken: pageToken),
                ListAccountUsersRequest(accountId: acme.id, statuses: [.invited], query: "user", pageSize: 1, pageToken: pageToken),
                ListAccountUsersRequest(accountId: acme.id, groupId: staff.id, query: "user", pageSize: 1, pageToken: pageToken),
                ListAccountUsersRequest(accountId: acme.id, query: "user", sort: .email, pageSize: 1, pageToken: pageToken),
            ] {
                await expectRPCError(.invalidArgument, "page_token was not issued for this query") {
                    try await client.accountUsers.listAccountUsers(replay)
                }
            }
            // A forged token (not sealed by this server) is refused the same way.
            await expectRPCError(.invalidArgument, "page_token") {
                try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, pageToken: "bWVtYmVyczpBQ0M"))
            }
        }
    }
}
