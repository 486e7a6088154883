import CSodium

/// Opaque page tokens, sealed with `crypto_secretbox` under a key derived
/// from the service's key file, so that a caller can neither read nor forge
/// one. A token holds a digest of what it was issued for (the listing, its
/// filters, query and sort: the `tag`) and a few short fields (ids, sequence
/// numbers; never a sort key, so its size is bounded: under 200 characters).
///
/// A token presented with another tag is refused: "page_token was not issued
/// for this query". Tokens stay valid across restarts (same key file).
struct PageToken {
    let secrets: Secrets

    static let separator: Character = "\u{1F}"
    /// Every token starts with it, like the `inv_` and `ses_` tokens: a
    /// base64url token may start with "-", which a command line takes for an
    /// option (`--page-token -1vGa...` was refused by the CLI's parser).
    static let prefix = "pt_"
    /// The longest token accepted, in bytes: a token is well under it.
    static let maxTokenBytes = 512
    /// Bytes of the tag's digest kept in a token.
    private static let bindingBytes = 16

    /// The key for page tokens: derived from the key file's key, so that a page
    /// token and an invitation's sealed token never share a key.
    private var key: [UInt8] { Self.derive(secrets.key) }
    /// The keys that open a page token: one per key of the key file, so a
    /// token sealed by a daemon of the fleet opens on another during a rotation.
    private var openingKeys: [[UInt8]] { secrets.keys.map(Self.derive) }

    private static func derive(_ fileKey: [UInt8]) -> [UInt8] {
        Sodium.sha256(Array("marketplace page token key v1".utf8) + fileKey)
    }

    private static func binding(_ tag: String) -> [UInt8] {
        Array(Sodium.sha256(Array(tag.utf8)).prefix(bindingBytes))
    }

    func encode(tag: String, _ fields: [String]) -> String {
        let plain = Self.binding(tag) + Array(fields.joined(separator: String(Self.separator)).utf8)
        let nonce = Sodium.randomBytes(Int(crypto_secretbox_noncebytes()))
        var box = [UInt8](repeating: 0, count: Int(crypto_secretbox_macbytes()) + plain.count)
        let key = key
        _ = box.withUnsafeMutableBufferPointer { b in
            plain.withUnsafeBufferPointer { m in
                crypto_secretbox_easy(b.baseAddress!, m.baseAddress!, UInt64(m.count), nonce, key)
            }
        }
        return Self.prefix + Base64URL.encode(nonce + box)
    }

    /// The fields of `token`, or `nil` for an empty token (first page).
    ///
    /// - Throws: ``DomainError/Kind/invalidArgument`` when the token is
    ///   malformed or not sealed by this service, or was issued for another
    ///   listing, filter, query or sort.
    func decode(_ token: String, tag: String, fieldCount: Int, field: String = "page_token") throws(DomainError) -> [String]? {
        if token.isEmpty { return nil }
        let invalid = DomainError.invalidArgument("\(field): is malformed or was not issued by this service; start again without a page token")
        let nonceLength = Int(crypto_secretbox_noncebytes())
        let macLength = Int(crypto_secretbox_macbytes())
        guard token.utf8.count <= Self.maxTokenBytes, token.hasPrefix(Self.prefix),
              let sealed = Base64URL.decode(String(token.dropFirst(Self.prefix.count))),
              sealed.count >= nonceLength + macLength + Self.bindingBytes
        else { throw invalid }
        var plain = [UInt8](repeating: 0, count: sealed.count - nonceLength - macLength)
        let opened = openingKeys.contains { key in
            plain.withUnsafeMutableBufferPointer { out in
                sealed.withUnsafeBufferPointer { s in
                    crypto_secretbox_open_easy(
                        out.baseAddress!, s.baseAddress! + nonceLength, UInt64(s.count - nonceLength), s.baseAddress!, key)
                }
            } == 0
        }
        guard opened else { throw invalid }
        guard Sodium.constantTimeEqual(Array(plain.prefix(Self.bindingBytes)), Self.binding(tag)) else {
            throw .invalidArgument("\(field) was not issued for this query (listing, filters, query and sort must be those of the first page); start again without a page token")
        }
        guard let text = String(validating: plain.dropFirst(Self.bindingBytes), as: UTF8.self) else { throw invalid }
        let parts = text.split(separator: Self.separator, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == fieldCount else { throw invalid }
        return parts
    }

    /// Decodes a token holding one id of `kind`.
    func decodeID(_ token: String, tag: String, kind: EntityKind) throws(DomainError) -> String? {
        guard let fields = try decode(token, tag: tag, fieldCount: 1) else { return nil }
        guard kind.isValid(fields[0]) else {
            throw .invalidArgument("page_token: is malformed; start again without a page token")
        }
        return fields[0]
    }
}

extension UserDirectory {
    /// Seals and opens this service's page tokens.
    var pageTokens: PageToken { PageToken(secrets: secrets) }
}
