import Foundation

/// Which audit events a listing returns: every condition set must hold.
public struct AuditFilter: Sendable, Equatable {
    /// Only events of this action.
    public var action: AuditEvent.Action?
    /// Only events by this actor, exactly as ``AuditEvent/actor`` reads.
    public var actor: String?
    /// Only events at or after this time.
    public var since: Date?
    /// Only events before this time.
    public var until: Date?

    public init(action: AuditEvent.Action? = nil, actor: String? = nil, since: Date? = nil, until: Date? = nil) {
        self.action = action
        self.actor = actor
        self.since = since
        self.until = until
    }

    public var isEmpty: Bool { self == AuditFilter() }

    /// The part of a page token's tag that binds it to these conditions.
    var tag: String {
        let times = [since, until].map { $0.map { String($0.millisecondsSince1970) } ?? "" }
        return ([action?.rawValue ?? "", actor ?? ""] + times).joined(separator: ",")
    }
}
