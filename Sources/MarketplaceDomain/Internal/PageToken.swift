/// Opaque page tokens: URL-safe base64 of `tag` + fields separated by U+001F.
/// The tag names the listing (and its sort), so a token from another listing is refused.
enum PageToken {
    static let separator: Character = "\u{1F}"

    static func encode(tag: String, _ fields: [String]) -> String {
        Base64URL.encode(Array(([tag] + fields).joined(separator: String(separator)).utf8))
    }

    /// The fields of `token`, or `nil` for an empty token (first page).
    ///
    /// - Throws: ``DomainError/Kind/invalidArgument`` when the token is malformed
    ///   or belongs to another listing or sort order.
    static func decode(_ token: String, tag: String, fieldCount: Int, field: String = "page_token") throws(DomainError) -> [String]? {
        if token.isEmpty { return nil }
        let invalid = DomainError.invalidArgument("\(field): is malformed or belongs to another listing or sort order; start again without a page token")
        guard let bytes = Base64URL.decode(token), let text = String(validating: bytes, as: UTF8.self) else { throw invalid }
        let parts = text.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == fieldCount + 1, parts[0] == tag else { throw invalid }
        return Array(parts.dropFirst())
    }

    /// Decodes a token holding one id of `kind`.
    static func decodeID(_ token: String, tag: String, kind: EntityKind) throws(DomainError) -> String? {
        guard let fields = try decode(token, tag: tag, fieldCount: 1) else { return nil }
        guard kind.isValid(fields[0]) else {
            throw .invalidArgument("page_token: is malformed; start again without a page token")
        }
        return fields[0]
    }
}
