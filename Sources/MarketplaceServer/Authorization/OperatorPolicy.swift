#if canImport(Glibc)
import Glibc
#endif
import MarketplaceRPC

/// Which socket peers are platform operators: root, the server's own uid, and
/// the configured uids and gids (the peer's primary gid, as SO_PEERCRED
/// reports it).
public struct OperatorPolicy: Sendable, Hashable {
    /// Extra operator uids (`--operator-uid`).
    public var uids: Set<UInt32>
    /// Extra operator gids (`--operator-gid`).
    public var gids: Set<UInt32>
    /// Whether root and the server's own uid are operators (true in production;
    /// tests turn it off to act as an ordinary local peer in-process).
    public var includesRootAndServerUser: Bool

    public init(uids: Set<UInt32> = [], gids: Set<UInt32> = [], includesRootAndServerUser: Bool = true) {
        self.uids = uids
        self.gids = gids
        self.includesRootAndServerUser = includesRootAndServerUser
    }

    public func isOperator(_ peer: PeerCredentials) -> Bool {
        if includesRootAndServerUser, peer.uid == 0 || peer.uid == getuid() { return true }
        return uids.contains(peer.uid) || gids.contains(peer.gid)
    }
}
