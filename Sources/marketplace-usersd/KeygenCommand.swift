import ArgumentParser
import Foundation
import MarketplaceDomain

/// `marketplace-usersd keygen`: creates a key file for `--key-file`, or rotates
/// the keys of one. The file is text, one base64 key per line: the first key
/// seals new invitation links, every key opens them. It is written mode 0600
/// through a synced temporary file, never half-written, and never printed.
struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a key file (mode 0600) for --key-file, or rotate its keys.",
        discussion: """
            The first key of the file seals new invitation links; every key in it opens
            them. Removing a key revokes the links sealed under it (they answer NOT_FOUND).
            Without an option, creates a new file with one key (refuses an existing file).
            Rotation of a fleet, each step copied to every daemon and the daemons restarted:
              1. --add      a new key that opens but does not seal yet
              2. --promote  the newest key seals from now on; the old one still opens
              3. --prune    after the invitation TTL: keep only the sealing key
            One daemon alone can do steps 1 and 2 at once with --rotate.
            Example:
              marketplace-usersd keygen --key-file /etc/marketplace-users/secrets.key
              marketplace-usersd keygen --key-file /etc/marketplace-users/secrets.key --rotate
            """)

    @Option(help: "The key file to create or change (env MARKETPLACE_USERS_KEY_FILE).")
    var keyFile: String?

    @Flag(help: "Append a new key that opens links but does not seal yet (step 1 of a fleet's rotation).")
    var add = false

    @Flag(help: "Make the newest key the sealing one; the others keep opening (step 2).")
    var promote = false

    @Flag(help: "Add a new key and make it the sealing one at once (one daemon, or a fleet that restarts together).")
    var rotate = false

    @Flag(help: "Keep only the sealing key: links sealed under the others stop working (step 3).")
    var prune = false

    func validate() throws {
        if [add, promote, rotate, prune].filter({ $0 }).count > 1 {
            throw ValidationError("choose one of --add, --promote, --rotate, --prune")
        }
        _ = try path()
    }

    private func path() throws -> String {
        let source = SettingSource().string(keyFile, flag: "--key-file", variable: "MARKETPLACE_USERS_KEY_FILE", default: "")
        guard !source.value.isEmpty else {
            throw ValidationError("--key-file (or MARKETPLACE_USERS_KEY_FILE) names the key file to create or change")
        }
        return source.value
    }

    func run() throws {
        let path = try path()
        do {
            guard add || promote || rotate || prune else {
                try SecretKeyFile.write(Array(SecretKeyFile.text([SecretKeyFile.newKey()]).utf8), to: path, replace: false)
                print("created \(path) (mode 0600) with 1 key; copy this same file to every daemon of the fleet (--key-file)")
                return
            }
            var keys = try SecretKeyFile.load(at: path)
            let what: String
            if add {
                keys.append(SecretKeyFile.newKey())
                what = "added a new key that opens links; it seals after --promote"
            } else if promote {
                guard keys.count > 1 else {
                    throw ValidationError("\(path) holds one key: nothing to promote (add one first with --add)")
                }
                keys.insert(keys.removeLast(), at: 0)
                what = "the newest key now seals; the other keys still open"
            } else if rotate {
                keys.insert(SecretKeyFile.newKey(), at: 0)
                what = "a new key now seals; the other keys still open"
            } else {
                let removed = keys.count - 1
                keys = [keys[0]]
                what = "kept the sealing key only; removed \(removed) key(s): links sealed under them no longer work"
            }
            try SecretKeyFile.write(Array(SecretKeyFile.text(keys).utf8), to: path, replace: true)
            print("\(path): \(what) (\(keys.count) key(s)); copy it to every daemon and restart them")
        } catch let error as DomainError {
            FileHandle.standardError.write(Data("keygen failed: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
