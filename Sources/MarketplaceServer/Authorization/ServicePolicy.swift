import MarketplaceRPC

/// Which socket peers are internal services of the platform (ordering,
/// billing, catalogue): the configured uids and gids (the peer's primary gid,
/// as SO_PEERCRED reports it). A service may call only the read-only methods
/// the contract opens to services (`services: true`); a peer that is also an
/// operator acts as an operator.
public struct ServicePolicy: Sendable, Hashable {
    /// Service uids (`--service-uid`).
    public var uids: Set<UInt32>
    /// Service gids (`--service-gid`).
    public var gids: Set<UInt32>

    public init(uids: Set<UInt32> = [], gids: Set<UInt32> = []) {
        self.uids = uids
        self.gids = gids
    }

    public func isService(_ peer: PeerCredentials) -> Bool {
        uids.contains(peer.uid) || gids.contains(peer.gid)
    }
}
