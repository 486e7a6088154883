import Foundation
import MarketplaceDomain
import MarketplaceSQLite
import MarketplaceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct StorageAndSecretsTests {
    @Test func keyFileIsCreated0600AndWrongModeOrSizeIsRefused() async throws {
        try await withFixture { f in
            let path = f.dataDirectory + "/secrets.key"
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            #expect((attributes[.size] as? Int) == 32)
            // Reopening keeps the same key.
            _ = try Secrets(configuration: .inDataDirectory(f.dataDirectory, passwordParameters: .minimum))
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == 32)

            chmod(path, 0o644)
            let wide = await expectDomainError(.failedPrecondition) { try Secrets(configuration: .inDataDirectory(f.dataDirectory)) }
            #expect(wide?.message.contains("mode 0644") == true)
            chmod(path, 0o600)
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o600)
            let short = await expectDomainError(.failedPrecondition) { try Secrets(configuration: .inDataDirectory(f.dataDirectory)) }
            #expect(short?.message.contains("3 bytes") == true)
        }
    }

    /// Tokens carry their kind: none ever starts with "-" (a command line would
    /// read it as an option; seen in CI with a base64url token), and one kind is
    /// never accepted as the other.
    @Test func tokensCarryTheirKind() async throws {
        try await withFixture { f in
            for _ in 0..<200 {
                let invitation = f.secrets.issueToken()
                let session = f.secrets.issueBearerToken()
                #expect(invitation.token.hasPrefix("inv_") && session.token.hasPrefix("ses_"))
                #expect(f.secrets.tokenHash(invitation.token, kind: .invitation) == invitation.hash)
                #expect(f.secrets.tokenHash(session.token, kind: .session) == session.hash)
                #expect(f.secrets.tokenHash(invitation.token, kind: .session) == nil)
                #expect(f.secrets.tokenHash(session.token, kind: .invitation) == nil)
                #expect(f.secrets.tokenHash(String(invitation.token.dropFirst(4)), kind: .invitation) == nil)
                let unsealed = try f.secrets.unseal(invitation.sealed)
                #expect(unsealed == invitation.token)
            }
        }
    }

    @Test(.sqliteOnly("copies the SQLite file (VACUUM INTO)"))
    func databaseCopyWithoutKeyFileYieldsNoLinks() async throws {
        try await withFixture { f in
            let sqlite = try #require(f.sqlite)
            let (account, _, staff) = try await f.makeAccount()
            let invited = try await f.directory.invite(
                accountID: account.id, email: "jane@example.com", firstName: "J", lastName: "D", groupIDs: [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
            let token = Fixture.token(of: invited.link)
            // The token appears nowhere in the database files.
            for name in try FileManager.default.contentsOfDirectory(atPath: f.dataDirectory) where name.hasPrefix("users.sqlite") {
                let data = try Data(contentsOf: URL(fileURLWithPath: f.dataDirectory + "/" + name))
                #expect(data.range(of: Data(token.utf8)) == nil, "\(name) contains the token")
            }
            // Copy the database (with a consistent snapshot) into a directory without the key.
            let copyDirectory = Fixture.makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: copyDirectory) }
            try await sqlite.unsafeExecute("VACUUM INTO '\(copyDirectory)/users.sqlite'")
            let thief = try Fixture(dataDirectory: copyDirectory)
            await expectDomainError(.internal) { try await thief.directory.invitationLink(accountUserID: invited.accountUser.id, access: Fixture.operatorAccess) }
            await expectDomainError(.internal) { try await thief.directory.pendingOutboxMessages() }
            // The original still works.
            #expect(try await f.directory.invitationLink(accountUserID: invited.accountUser.id, access: Fixture.operatorAccess).link == invited.link)
        }
    }

    @Test(.sqliteOnly("SQLite's migration table; PostgreSQL's is tested with MarketplacePostgres"))
    func newerSchemaIsRefused() async throws {
        try await withFixture { f in
            try await #require(f.sqlite).unsafeExecute("INSERT INTO grdb_migrations (identifier) VALUES ('9999-from-the-future')")
            let error = await expectDomainError(.failedPrecondition) { try SQLiteStore(dataDirectory: f.dataDirectory) }
            #expect(error?.message.contains("9999-from-the-future") == true)
        }
    }

    @Test(.sqliteOnly("SQLite's connection pragmas"))
    func connectionSettings() async throws {
        try await withFixture { f in
            let settings = try await #require(f.sqlite).settings()
            #expect(settings["journal_mode"] == "wal")
            #expect(settings["synchronous"] == "2")  // FULL
            #expect(settings["foreign_keys"] == "1")
            #expect((Int(settings["busy_timeout"] ?? "") ?? 0) > 0)
            #expect(settings["writer_temp_store"] == "2")  // MEMORY: savepoint journals never reach a file
            #expect(settings["reader_cache_size"] == "-8192")  // 8 MiB per reader (SQLite's default: -2000)
            #expect(SQLiteStore.knownMigrations == ["0001-initial", "0002-sessions", "0003-member-indexes-cover-status", "0004-contract-values", "0005-outbox-delivery", "0006-change-feed", "0007-invited-person", "0008-sign-in-failures", "0009-fewer-indexes-per-invite"])
        }
    }

    @Test func hashingRunsOffThePoolAndVerifies() async throws {
        try await withFixture { f in
            let hashes = try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<6 { group.addTask { try await f.secrets.hashPassword("Passw0rd!\(i)") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(hashes.allSatisfy { $0.hasPrefix("$argon2id$") })
            let hash = try await f.secrets.hashPassword("Right-pass-1")
            #expect(try await f.secrets.verifyPassword("Right-pass-1", hash: hash))
            #expect(try await !f.secrets.verifyPassword("Wrong-pass-1", hash: hash))
            #expect(!f.secrets.passwordNeedsRehash(hash))
            let interactive = try Secrets(configuration: .inDataDirectory(f.dataDirectory, passwordParameters: .interactive))
            #expect(interactive.passwordNeedsRehash(hash))
        }
    }
}
