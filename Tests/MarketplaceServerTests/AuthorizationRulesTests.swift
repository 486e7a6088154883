import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

private let password = "Str0ng!pass"

private func bearer(_ token: String) -> CallOptions { .bearer(token) }

@Suite("Authorization rules")
struct AuthorizationRulesTests {
    @Test("an administrator of A cannot see or change B; switching accounts changes what is allowed")
    func accountsAndSwitching() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (a, aAdmins, aStaff) = try await f.accountWithGroups("A")
            let (b, _, bStaff) = try await f.accountWithGroups("B")
            _ = try await f.accept(try await f.invite(a, "ada@example.com", groups: [aAdmins]).invitationLink, password: password)
            _ = try await f.accept(try await f.invite(b, "ada@example.com", groups: [bStaff]).invitationLink, password: password)
            let bMember = try #require(try await f.invite(b, "bob@example.com", groups: [bStaff]).accountUser)
            let signedIn = try await client.sessions.signIn(.init(email: "ada@example.com", password: password))
            let ada = bearer(signedIn.token)
            let current = try #require(signedIn.session).currentAccountId
            #expect([a.id, b.id].contains(current))
            if current != a.id { _ = try await client.sessions.switchAccount(.init(accountId: a.id), options: ada) }

            // Administrator in A: sees A, not B.
            #expect(try await client.accountUsers.listAccountUsers(.init(accountId: a.id), options: ada).accountUsers.count == 1)
            _ = try await client.accountUsers.inviteUser(.init(accountId: a.id, email: "carl@example.com", firstName: "C", lastName: "D", groupIds: [aStaff.id]), options: ada)
            await expectRPCError(.permissionDenied, "not your current account") {
                try await client.accountUsers.listAccountUsers(.init(accountId: b.id), options: ada)
            }
            // B's members answer like unknown ids, whichever account they are in.
            await expectRPCError(.notFound, "account_user \(bMember.id): not found") {
                try await client.accountUsers.getAccountUser(.init(accountUserId: bMember.id), options: ada)
            }
            await expectRPCError(.notFound) { try await client.accountUsers.removeAccountUser(.init(accountUserId: bMember.id), options: ada) }
            await expectRPCError(.permissionDenied) { try await client.accounts.listAccounts(.init(), options: ada) }

            let mine = try await client.sessions.listMyAccounts(.init(), options: ada).accounts
            #expect(Set(mine.map { $0.account?.id }) == [a.id, b.id])
            #expect(mine.first { $0.account?.id == a.id }?.isAdministrator == true)
            #expect(mine.first { $0.isCurrent }?.account?.id == a.id)

            // Switch to B, where Ada is a plain member: B is now current but she is no administrator.
            let switched = try await client.sessions.switchAccount(.init(accountId: b.id), options: ada)
            #expect(switched.session?.currentAccountId == b.id)
            await expectRPCError(.permissionDenied, "administrators' group") {
                try await client.accountUsers.listAccountUsers(.init(accountId: b.id), options: ada)
            }
            await expectRPCError(.permissionDenied, "not your current account") {
                try await client.accountUsers.listAccountUsers(.init(accountId: a.id), options: ada)
            }
            _ = try await client.sessions.switchAccount(.init(accountId: a.id), options: ada)
            #expect(try await client.accountUsers.listAccountUsers(.init(accountId: a.id), options: ada).accountUsers.count == 2)
            await expectRPCError(.permissionDenied) {
                try await client.sessions.switchAccount(.init(accountId: "ACC-0000-0000"), options: ada)
            }
        }
    }

    @Test("blocking, removing or deleting a user ends what their session may do at once")
    func immediateEffect() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (a, admins, _) = try await f.accountWithGroups("A")
            let member = try await f.accept(try await f.invite(a, "ada@example.com", groups: [admins]).invitationLink, password: password)
            let ada = bearer(try await client.sessions.signIn(.init(email: "ada@example.com", password: password)).token)
            let list = { try await client.accountUsers.listAccountUsers(.init(accountId: a.id), options: ada) }
            _ = try await list()

            _ = try await client.accountUsers.blockAccountUser(.init(accountUserId: member.id))
            await expectRPCError(.permissionDenied, "blocked") { try await list() }
            _ = try await client.accountUsers.unblockAccountUser(.init(accountUserId: member.id))
            _ = try await list()

            _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: member.id))
            await expectRPCError(.permissionDenied) { try await list() }
            #expect(try await client.profile.getProfile(.init(), options: ada).user?.email == "ada@example.com")

            _ = try await client.users.deleteUser(.init(userId: member.user!.id))
            await expectRPCError(.unauthenticated) { try await client.profile.getProfile(.init(), options: ada) }
        }
    }

    @Test("a wrong password and an unknown email give the same answer; a bad token is UNAUTHENTICATED")
    func noEnumeration() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (a, admins, _) = try await f.accountWithGroups("A")
            _ = try await f.accept(try await f.invite(a, "ada@example.com", groups: [admins]).invitationLink, password: password)
            var answers: [RPCError] = []
            for (email, pass) in [("ada@example.com", "Wr0ng!password"), ("nobody@example.com", "Wr0ng!password")] {
                do {
                    _ = try await client.sessions.signIn(.init(email: email, password: pass))
                } catch let error as RPCError { answers.append(error) }
            }
            #expect(answers.count == 2)
            #expect(answers[0] == answers[1])
            #expect(answers[0].code == .unauthenticated)
            await expectRPCError(.unauthenticated) { try await client.profile.getProfile(.init(), options: bearer("forged")) }
            await expectRPCError(.unauthenticated, "Bearer") {
                try await client.profile.getProfile(.init(), options: CallOptions(metadata: ["authorization": "Basic abc"]))
            }
        }
    }

    @Test("an existing login accepts with its own session instead of its password; another person's session is refused")
    func acceptWithSession() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (a, _, aStaff) = try await f.accountWithGroups("A")
            let (b, _, bStaff) = try await f.accountWithGroups("B")
            _ = try await f.accept(try await f.invite(a, "ada@example.com", groups: [aStaff]).invitationLink, password: password)
            _ = try await f.accept(try await f.invite(a, "bob@example.com", groups: [aStaff]).invitationLink, password: password)
            let ada = bearer(try await client.sessions.signIn(.init(email: "ada@example.com", password: password)).token)
            let bob = bearer(try await client.sessions.signIn(.init(email: "bob@example.com", password: password)).token)
            let link = try await f.invite(b, "ada@example.com", groups: [bStaff]).invitationLink
            let accept = AcceptInvitationRequest(token: token(of: link), firstName: "Ada", lastName: "L", acceptTerms: true)
            await expectRPCError(.permissionDenied, "another person") { try await client.invitations.acceptInvitation(accept, options: bob) }
            await expectRPCError(.unauthenticated) { try await client.invitations.acceptInvitation(accept) }
            let member = try #require(try await client.invitations.acceptInvitation(accept, options: ada).accountUser)
            #expect(member.accountId == b.id && member.status == .active)
        }
    }

    @Test("repeated failed sign-ins for one email are throttled")
    func throttled() async throws {
        try await withUsersServer { _, client in
            var codes: [StatusCode] = []
            for _ in 0..<7 {
                do {
                    _ = try await client.sessions.signIn(.init(email: "victim@example.com", password: "guess"))
                } catch let error as RPCError { codes.append(error.code) }
            }
            #expect(codes.prefix(5).allSatisfy { $0 == .unauthenticated })
            #expect(codes.last == .resourceExhausted)
        }
    }

    @Test("a user without an account may use only their profile; changing the password ends other sessions")
    func profileOnly() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (a, _, staff) = try await f.accountWithGroups("A")
            let member = try await f.accept(try await f.invite(a, "ada@example.com", groups: [staff]).invitationLink, password: password)
            _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: member.id))
            let first = bearer(try await client.sessions.signIn(.init(email: "ada@example.com", password: password)).token)
            let second = bearer(try await client.sessions.signIn(.init(email: "ada@example.com", password: password)).token)
            await expectRPCError(.permissionDenied, "no account") { try await client.accountUsers.listAccountUsers(.init(accountId: a.id), options: first) }
            let updated = try await client.profile.updateProfile(.init(firstName: "Augusta", fields: ["first_name"]), options: first)
            #expect(updated.user?.firstName == "Augusta" && updated.user?.lastName == "Lovelace")
            await expectRPCError(.invalidArgument, "uppercase") {
                try await client.profile.changePassword(.init(currentPassword: password, newPassword: "weak!pass1"), options: first)
            }
            _ = try await client.profile.changePassword(.init(currentPassword: password, newPassword: "N3w!password"), options: first)
            #expect(try await client.profile.getProfile(.init(), options: first).user?.firstName == "Augusta")
            await expectRPCError(.unauthenticated) { try await client.profile.getProfile(.init(), options: second) }
            _ = try await client.sessions.signOut(.init(), options: first)
            await expectRPCError(.unauthenticated) { try await client.profile.getProfile(.init(), options: first) }
        }
    }

    /// A real peer of another uid, via setpriv: the kernel's SO_PEERCRED decides.
    @Test("a non-operator peer may call only the anonymous methods; --operator-uid makes it an operator")
    func peerCredentials() async throws {
        let nobody: UInt32 = 65534
        for asOperator in [false, true] {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            chmod(directory.path, 0o755)
            let script = directory.appending("call.py")
            try Self.pythonClient.write(toFile: script, atomically: true, encoding: .utf8)
            chmod(script, 0o644)
            try await withUsersServer(in: directory, configure: {
                $0.rpc.socketMode = 0o666
                if asOperator { $0.operators = OperatorPolicy(uids: [nobody]) }
            }) { server, _ in
                let run = try await runProcess(
                    "/usr/bin/setpriv",
                    ["--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", "/usr/bin/python3", script,
                     server.configuration.rpc.socketPath])
                #expect(run.status == 0, "\(run.stderr)")
                let lines = run.stdout.split(separator: "\n").map(String.init)
                #expect(lines.contains("marketplace.health.v1.Health/Check 0"), "\(lines)")
                #expect(lines.contains("marketplace.users.v1.Invitations/ShowInvitation 5"), "\(lines)")
                #expect(lines.contains("marketplace.users.v1.Accounts/ListAccounts \(asOperator ? 0 : 16)"), "\(lines)")
                #expect(lines.contains("marketplace.users.v1.Users/ListUsers \(asOperator ? 0 : 16)"), "\(lines)")
            }
        }
    }

    /// A ttrpc client with hand-encoded protobuf, run as another uid: prints
    /// "service/method code" per call.
    static let pythonClient = #"""
    import socket, struct, sys

    def field(num, data):
        return bytes([num << 3 | 2, len(data)]) + data

    def call(sock, stream, service, method, payload=b""):
        body = field(1, service.encode()) + field(2, method.encode()) + (field(3, payload) if payload else b"")
        sock.sendall(struct.pack(">IIBB", len(body), stream, 1, 0) + body)
        header = b""
        while len(header) < 10:
            header += sock.recv(10 - len(header))
        length, sid, _, _ = struct.unpack(">IIBB", header)
        data = b""
        while len(data) < length:
            data += sock.recv(length - len(data))
        code = 0
        # Response.status (field 1, bytes) -> Status.code (field 1, varint)
        if data[:1] == b"\x0a":
            status = data[2:2 + data[1]]
            if status[:1] == b"\x08":
                code = status[1]
        print(f"{service}/{method} {code}")

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    call(s, 1, "marketplace.health.v1.Health", "Check")
    call(s, 3, "marketplace.users.v1.Invitations", "ShowInvitation", field(1, b"unknown-token"))
    call(s, 5, "marketplace.users.v1.Accounts", "ListAccounts")
    call(s, 7, "marketplace.users.v1.Users", "ListUsers")
    """#
}
