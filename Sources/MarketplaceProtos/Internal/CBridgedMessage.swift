internal import CMarketplaceProtos

/// The bridge between a generated Swift message and its protobuf-c struct.
///
/// Generated code implements the per-field parts (`fill`, `init(copying:)`) and
/// names the protoc-c functions; `CCodec` owns every C allocation around them.
protocol CBridgedMessage: ProtoMessage {
    associatedtype CMessage
    /// The message's full proto name, for error messages.
    static var protoName: String { get }
    static func cInit(_ m: UnsafeMutablePointer<CMessage>)
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int
    /// Unpacks with every allocation taken from `allocator` (a `CArena`'s:
    /// the tree is freed with the arena, not piece by piece).
    static func cUnpack(
        _ allocator: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ data: UnsafePointer<UInt8>?
    ) -> UnsafeMutablePointer<CMessage>?

    /// Writes this value's fields into an initialised C struct; every pointer it
    /// stores is allocated from `arena` and lives as long as the arena.
    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena)

    /// Copies every field out of an unpacked C struct into Swift values.
    init(copying c: UnsafePointer<CMessage>) throws(ProtoDecodingError)
}
