import Foundation
import MarketplaceDomain
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The key file's text format: one base64 key per line, the first seals,
/// every key opens; a raw 32-byte file is one key.
@Suite struct KeyFileFormatTests {
    private func secrets(_ keys: [[UInt8]], in directory: String, name: String) throws -> Secrets {
        let path = directory + "/" + name
        try SecretKeyFile.write(Array(SecretKeyFile.text(keys).utf8), to: path, replace: true)
        return try Secrets(configuration: .init(keyFilePath: path, createsKeyFile: false, passwordParameters: .minimum, hashingThreads: 1))
    }

    @Test func firstKeySealsEveryKeyOpens() throws {
        let directory = NSTemporaryDirectory() + "keyfmt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = SecretKeyFile.newKey(), new = SecretKeyFile.newKey()
        let before = try secrets([old], in: directory, name: "old")
        let rotated = try secrets([new, old], in: directory, name: "rotated")
        let pruned = try secrets([new], in: directory, name: "pruned")

        let sealedOld = before.issueToken()
        #expect(try rotated.unseal(sealedOld.sealed) == sealedOld.token)
        #expect(!pruned.canUnseal(sealedOld.sealed))

        let sealedNew = rotated.issueToken()
        #expect(pruned.canUnseal(sealedNew.sealed), "the first key of the file did not seal")
        #expect(!before.canUnseal(sealedNew.sealed))
    }

    @Test func commentsAndBlankLinesAreIgnoredAndABadLineIsNamed() throws {
        let directory = NSTemporaryDirectory() + "keyfmt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = Data(SecretKeyFile.newKey()).base64EncodedString()
        let path = directory + "/k"
        try SecretKeyFile.write(Array("# comment\n\n  \(key)  \n".utf8), to: path, replace: true)
        #expect(try SecretKeyFile.load(at: path).count == 1)

        try SecretKeyFile.write(Array("# comment\n\(key)\nnot-a-key\n".utf8), to: path, replace: true)
        do {
            _ = try SecretKeyFile.load(at: path)
            Issue.record("a bad line was accepted")
        } catch {
            #expect(error.kind == .failedPrecondition)
            #expect(error.message.contains("line 3"), "\(error.message)")
        }
        try SecretKeyFile.write(Array("# only a comment\n".utf8), to: path, replace: true)
        #expect(throws: DomainError.self) { try SecretKeyFile.load(at: path) }
    }
}
