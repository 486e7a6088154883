import Foundation

extension UserDirectory {
    /// A live session by its internal id (for "who am I"); only reads.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `unauthenticated` when
    ///   the session expired or ended.
    public func session(id: String) async throws -> Session {
        try Session.validateID(id)
        let now = now()
        let record = try await read { r in try r.session(id: id) }
        guard let record, isLive(record, at: now) else { throw Self.sessionExpired }
        return session(record)
    }
}
