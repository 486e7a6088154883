import MarketplaceDomain
import MarketplaceRPC

extension RPCContext {
    /// Who the domain records as acting in this call (audit trail).
    var actor: MarketplaceDomain.Actor {
        .operator(uid: peer.uid)
    }
}
