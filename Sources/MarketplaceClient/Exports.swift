// The client's public API speaks the contract's message types and RPCError:
// importing MarketplaceClient is enough to use it.
@_exported import MarketplaceProtos
@_exported import struct MarketplaceRPC.Metadata
@_exported import struct MarketplaceRPC.RPCError
@_exported import struct MarketplaceRPC.StatusCode
