import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

extension DaemonOperationsTests {
    /// `--key-file` and `marketplace-usersd keygen`: the keys a fleet shares,
    /// refused when loose or missing, rotated without breaking pending links.
    @Suite("Shared key file: --key-file, keygen, rotation", .serialized)
    struct KeyFileTests {
        private func keygen(_ arguments: [String], environment: [String: String]? = nil) async throws -> ProcessResult {
            try await runProcess(DaemonProcess.executable, ["keygen"] + arguments, environment: environment)
        }

        private func refusedStart(_ directory: TemporaryDirectory, arguments: [String] = [], environment: [String: String] = [:]) async throws -> (status: Int32?, log: String) {
            let daemon = try DaemonProcess(
                socketPath: directory.appending("s.sock"), dataDirectory: directory.appending("data"),
                logPath: directory.appending("d-\(UUID().uuidString.prefix(8)).log"), arguments: arguments,
                environment: environment)
            let status = await daemon.waitForExit(seconds: 20)
            return (status, daemon.log)
        }

        @Test("keygen writes a 0600 key file, never prints the key, and never overwrites one")
        func keygenCreates() async throws {
            let directory = try TemporaryDirectory(prefix: "kg")
            defer { directory.remove() }
            let path = directory.appending("fleet.key")
            let created = try await keygen(["--key-file", path])
            #expect(created.status == 0, "\(created.stderr)")
            #expect(mode(path) == 0o600)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let keys = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            #expect(keys.count == 1 && Data(base64Encoded: String(keys[0]))?.count == 32, "\(text)")
            #expect(!created.stdout.contains(String(keys[0])) && !created.stderr.contains(String(keys[0])))

            let again = try await keygen(["--key-file", path])
            #expect(again.status == 1)
            #expect(again.stderr.contains("\(path) exists"), "\(again.stderr)")
            #expect(try String(contentsOfFile: path, encoding: .utf8) == text, "keygen overwrote the key file")

            // The environment variable names the file as the flag does.
            let viaEnvironment = directory.appending("env.key")
            let fromEnvironment = try await keygen(
                [], environment: ProcessInfo.processInfo.environment.merging(["MARKETPLACE_USERS_KEY_FILE": viaEnvironment]) { $1 })
            #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
            #expect(mode(viaEnvironment) == 0o600)
        }

        @Test("A missing --key-file refuses the start, naming the file and keygen, and creates no key")
        func missingKeyFile() async throws {
            let directory = try TemporaryDirectory(prefix: "kmiss")
            defer { directory.remove() }
            let path = directory.appending("fleet.key")
            let (status, log) = try await refusedStart(directory, arguments: ["--key-file", path])
            #expect(status == 1, "\(log)")
            #expect(log.contains(path) && log.contains("does not exist") && log.contains("keygen --key-file"), "\(log)")
            #expect(!exists(path), "the daemon created the key file it was told to use")
            #expect(!exists(directory.appending("data/secrets.key")), "the daemon made a key of its own")
        }

        @Test("A --key-file open to group or others is refused naming the path and the fix (flag and environment)")
        func looseKeyFile() async throws {
            let directory = try TemporaryDirectory(prefix: "kloose")
            defer { directory.remove() }
            let path = directory.appending("fleet.key")
            #expect(try await keygen(["--key-file", path]).status == 0)
            chmod(path, 0o640)
            let (status, log) = try await refusedStart(directory, arguments: ["--key-file", path])
            #expect(status == 1, "\(log)")
            #expect(log.contains(path) && log.contains("mode 0640") && log.contains("chmod 600 \(path)"), "\(log)")
            let (envStatus, envLog) = try await refusedStart(directory, environment: ["MARKETPLACE_USERS_KEY_FILE": path])
            #expect(envStatus == 1, "\(envLog)")
            #expect(envLog.contains("chmod 600 \(path)"), "\(envLog)")
            #expect(mode(path) == 0o640, "the daemon changed the mode of a key file it was given")
        }

        @Test("A --key-file owned by another user is refused naming the path and chown", .enabled(if: geteuid() == 0))
        func foreignKeyFile() async throws {
            let directory = try TemporaryDirectory(prefix: "kown")
            defer { directory.remove() }
            let path = directory.appending("fleet.key")
            #expect(try await keygen(["--key-file", path]).status == 0)
            #expect(chown(path, 65534, 65534) == 0)
            let (status, log) = try await refusedStart(directory, arguments: ["--key-file", path])
            #expect(status == 1, "\(log)")
            #expect(log.contains(path) && log.contains("owned by uid 65534") && log.contains("chown"), "\(log)")
        }

        @Test("backup --key-file takes the daemon's key file; the restored directory opens the links from before")
        func backupWithKeyFile() async throws {
            let directory = try TemporaryDirectory(prefix: "kbak")
            defer { directory.remove() }
            let path = directory.appending("fleet.key")
            #expect(try await keygen(["--key-file", path]).status == 0)
            let data = directory.appending("data")
            let daemon = try DaemonProcess(
                socketPath: directory.appending("s.sock"), dataDirectory: data, logPath: directory.appending("d.log"),
                arguments: ["--key-file", path])
            try #require(await daemon.waitUntilReady(), "\(daemon.log)")
            let link = try await MarketplaceClient.withClient(socketPath: directory.appending("s.sock")) { client in
                let f = Fixture(client: client)
                let (account, _, staff) = try await f.accountWithGroups()
                return try await f.invite(account, "kept@example.com", groups: [staff]).invitationLink
            }
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0)

            let file = directory.appending("backup.db")
            let withoutKey = try await runProcess(DaemonProcess.executable, ["backup", "--data-dir", data, "--to", file])
            #expect(withoutKey.status == 1 && withoutKey.stderr.contains("secrets.key"), "\(withoutKey.stderr)")
            let backedUp = try await runProcess(DaemonProcess.executable, ["backup", "--data-dir", data, "--to", file, "--key-file", path])
            try #require(backedUp.status == 0, "\(backedUp.stderr)")
            let restored = directory.appending("restored")
            let restore = try await runProcess(DaemonProcess.executable, ["restore", "--from", file, "--data-dir", restored])
            try #require(restore.status == 0, "\(restore.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: restored + "/secrets.key")) == Data(contentsOf: URL(fileURLWithPath: path)))

            let again = try DaemonProcess(
                socketPath: directory.appending("r.sock"), dataDirectory: restored, logPath: directory.appending("r.log"))
            try #require(await again.waitUntilReady(), "\(again.log)")
            defer { again.signal(SIGKILL) }
            let shown = try await MarketplaceClient.withClient(socketPath: directory.appending("r.sock")) { client in
                try await client.invitations.showInvitation(.init(token: token(of: link)))
            }
            #expect(shown.invitation?.email == "kept@example.com")
        }

        /// The fleet's three steps, each followed by a restart: --add (a new key
        /// opens), --promote (it seals), --prune (the old one is gone).
        @Test("Rotation: old links keep working until the old key is removed, new links are sealed with the new key")
        func rotation() async throws {
            let directory = try TemporaryDirectory(prefix: "krot")
            defer { directory.remove() }
            let path = directory.appending("fleet.key")
            #expect(try await keygen(["--key-file", path]).status == 0)
            var generation = 0
            func withDaemon<T>(_ body: (Fixture) async throws -> T) async throws -> T {
                generation += 1
                let daemon = try DaemonProcess(
                    socketPath: directory.appending("s.sock"), dataDirectory: directory.appending("data"),
                    logPath: directory.appending("d\(generation).log"), arguments: ["--key-file", path])
                try #require(await daemon.waitUntilReady(), "\(daemon.log)")
                defer { daemon.signal(SIGKILL) }
                let result = try await MarketplaceClient.withClient(socketPath: directory.appending("s.sock")) { client in
                    try await body(Fixture(client: client))
                }
                daemon.signal(SIGTERM)
                #expect(await daemon.waitForExit() == 0, "\(daemon.log)")
                #expect(!exists(directory.appending("data/secrets.key")), "the daemon made a key of its own")
                return result
            }
            func step(_ flag: String) async throws {
                let result = try await keygen(["--key-file", path, flag])
                try #require(result.status == 0, "keygen \(flag): \(result.stderr)")
            }

            // Under the first key: three pending invitations.
            let (account, staff, links) = try await withDaemon { f in
                let (account, _, staff) = try await f.accountWithGroups()
                var links: [String: (id: String, link: String)] = [:]
                for name in ["accepted", "pending", "copied"] {
                    let invited = try await f.invite(account, "\(name)@example.com", groups: [staff])
                    links[name] = (try #require(invited.accountUser).id, invited.invitationLink)
                }
                return (account, staff, links)
            }

            // --add: the new key opens but does not seal yet.
            try await step("--add")
            let sealedByOldKey = try await withDaemon { f in
                let copied = try await f.client.accountUsers.getInvitationLink(.init(accountUserId: links["copied"]!.id))
                #expect(copied.invitationLink == links["copied"]!.link)
                return try await f.invite(account, "added@example.com", groups: [staff]).invitationLink
            }

            // --promote: the new key seals; links sealed under the old key still open and accept.
            try await step("--promote")
            let sealedByNewKey = try await withDaemon { f in
                _ = try await f.accept(links["accepted"]!.link)
                let shown = try await f.client.invitations.showInvitation(.init(token: token(of: links["pending"]!.link)))
                #expect(shown.invitation?.email == "pending@example.com")
                let copied = try await f.client.accountUsers.getInvitationLink(.init(accountUserId: links["copied"]!.id))
                #expect(copied.invitationLink == links["copied"]!.link)
                return try await f.invite(account, "promoted@example.com", groups: [staff]).invitationLink
            }

            // --prune: only the new key is left. Links sealed under the old one
            // answer NOT_FOUND like an unknown link; the new one works.
            try await step("--prune")
            try await withDaemon { f in
                for link in [links["pending"]!.link, sealedByOldKey] {
                    await expectRPCError(.notFound, "invitation: not found") {
                        try await f.client.invitations.showInvitation(.init(token: token(of: link)))
                    }
                    await expectRPCError(.notFound, "invitation: not found") { try await f.accept(link) }
                }
                let shown = try await f.client.invitations.showInvitation(.init(token: token(of: sealedByNewKey)))
                #expect(shown.invitation?.email == "promoted@example.com")
                _ = try await f.accept(sealedByNewKey)
            }
        }
    }
}
