internal import CMarketplaceProtos

/// Encodes and decodes bridged messages: the one place where C memory is owned.
///
/// - Encoding builds the C struct tree in a `CArena`, packs it into a Swift
///   array, and frees the arena before returning.
/// - Decoding lets protobuf-c unpack into a `CArena` (its allocator), refuses
///   a `string` field with an embedded NUL (`CStringFieldCheck`: C strings
///   would cut it short), copies everything into Swift values, and frees the
///   arena, hence the unpacked tree, before returning.
///
/// No C pointer outlives the call that created it.
enum CCodec {
    static func encode<M: CBridgedMessage>(_ message: M) -> [UInt8] {
        let arena = CArena()
        defer { arena.releaseAll() }
        let c = arena.message(message)
        let size = M.cPackedSize(c)
        // An empty message (Health/Check's request, most of its fields at
        // their defaults) is the empty array: Array(unsafeUninitializedCapacity: 0)
        // hands out the shared empty storage and writes its count there, a
        // race between threads that ThreadSanitizer reports.
        guard size > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = M.cPack(c, buffer.baseAddress!)
        }
    }

    static func decode<M: CBridgedMessage>(
        _ type: M.Type, from bytes: UnsafeRawBufferPointer
    ) throws(ProtoDecodingError) -> M {
        let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let arena = CArena()
        defer { arena.releaseAll() }
        var allocator = arena.protobufAllocator
        // protobuf-c reads nothing for an empty buffer but wants a non-null pointer.
        let unpacked: UnsafeMutablePointer<M.CMessage>?
        if let data {
            unpacked = M.cUnpack(&allocator, bytes.count, data)
        } else {
            var empty: UInt8 = 0
            unpacked = M.cUnpack(&allocator, 0, &empty)
        }
        guard let unpacked else {
            throw ProtoDecodingError(messageType: M.protoName, reason: "not a valid protobuf encoding")
        }
        // An embedded NUL would cut a C string short: refuse it with the field's name.
        let descriptor = UnsafeRawPointer(unpacked).assumingMemoryBound(to: ProtobufCMessage.self).pointee.descriptor!
        try CStringFieldCheck.check(bytes, messageType: M.protoName, descriptor: descriptor)
        return try M(copying: unpacked)
    }
}
