import Foundation
internal import CMarketplaceProtos

/// A bump allocator for the C struct tree of one message being encoded or
/// decoded.
///
/// Everything is allocated from a few blocks and freed at once by
/// `releaseAll()`; nothing allocated here may be used after that. What the
/// encoder takes is zeroed; what protobuf-c takes to unpack (`protobufAllocator`)
/// is not, as from `malloc`.
///
/// Nearly every message fits its first block, taken from a few spare blocks
/// kept between uses (`SpareBlocks`) and given back at release: encoding an
/// answer or decoding a request then allocates no 4 KiB block of its own (a
/// `calloc` and `free` of that size take glibc's slow path, past its
/// per-thread cache), and an unpacked tree is not freed piece by piece.
final class CArena {
    /// The first block, of `blockSize`, from and back to `SpareBlocks`.
    private var first: UnsafeMutableRawPointer?
    /// Further blocks (a message past the first block), freed at release.
    private var more: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    static let blockSize = 4096

    init() {}

    deinit { releaseAll() }

    func releaseAll() {
        for block in more { free(block) }
        more.removeAll()
        if let first {
            SpareBlocks.giveBack(first)
            self.first = nil
        }
        cursor = nil
        remaining = 0
    }

    /// Raw memory of `size` bytes aligned to `alignment`, zeroed unless
    /// `zeroed` is false.
    func raw(size: Int, alignment: Int, zeroed: Bool = true) -> UnsafeMutableRawPointer {
        #if MARKETPLACE_PRECISE_ALLOCATIONS
        // AddressSanitizer builds (Scripts/fuzz, Scripts/sanitizers): every
        // allocation a `malloc` of its own, so that reading past one is caught,
        // as it would not be inside a shared block. (`malloc` aligns to 16.)
        precondition(alignment <= 16)
        let own = malloc(max(size, 1))!
        more.append(own)
        if zeroed { memset(own, 0, size) }
        return own
        #else
        if let cursor {
            let padding = (alignment - Int(bitPattern: cursor) % alignment) % alignment
            if padding + size <= remaining {
                let start = cursor + padding
                self.cursor = start + size
                remaining -= padding + size
                if zeroed { memset(start, 0, size) }
                return start
            }
        }
        let length = max(Self.blockSize, size + alignment)
        let block: UnsafeMutableRawPointer
        if first == nil, length == Self.blockSize {
            block = SpareBlocks.take() ?? malloc(length)!
            first = block
        } else {
            block = malloc(length)!
            more.append(block)
        }
        let padding = (alignment - Int(bitPattern: block) % alignment) % alignment
        let start = block + padding
        cursor = start + size
        remaining = length - padding - size
        if zeroed { memset(start, 0, size) }
        return start
        #endif
    }

    /// An allocator for protobuf-c's unpacking that takes from this arena
    /// (aligned as `malloc`'s, not zeroed) and frees nothing: the tree goes
    /// with the arena. Valid while the arena is.
    var protobufAllocator: ProtobufCAllocator {
        ProtobufCAllocator(
            alloc: { data, size in
                Unmanaged<CArena>.fromOpaque(data!).takeUnretainedValue()
                    .raw(size: size, alignment: 16, zeroed: false)
            },
            free: { _, _ in },
            allocator_data: Unmanaged.passUnretained(self).toOpaque())
    }

    func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        raw(size: MemoryLayout<T>.stride * max(count, 1), alignment: MemoryLayout<T>.alignment)
            .bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A NUL-terminated copy of `string`.
    func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        var string = string
        return string.withUTF8 { utf8 in
            let p = allocate(CChar.self, count: utf8.count + 1)
            if let base = utf8.baseAddress {
                UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: utf8.count)
            }
            p[utf8.count] = 0
            return p
        }
    }

    func binaryData(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let p = allocate(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: bytes.count) }
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }

    /// A copy of `elements`, or nil for an empty array (as protobuf-c expects).
    func array<T>(_ elements: [T]) -> UnsafeMutablePointer<T>? {
        guard !elements.isEmpty else { return nil }
        let p = allocate(T.self, count: elements.count)
        p.initialize(from: elements, count: elements.count)
        return p
    }

    /// An initialised C struct holding `message`.
    func message<M: CBridgedMessage>(_ message: M) -> UnsafeMutablePointer<M.CMessage> {
        let p = allocate(M.CMessage.self)
        M.cInit(p)
        message.fill(p, arena: self)
        return p
    }

    func timestamp(_ date: Date) -> UnsafeMutablePointer<Google__Protobuf__Timestamp> {
        let p = allocate(Google__Protobuf__Timestamp.self)
        google__protobuf__timestamp__init(p)
        let interval = date.timeIntervalSince1970
        var seconds = interval.rounded(.down)
        var nanos = ((interval - seconds) * 1e9).rounded()
        if nanos >= 1e9 { seconds += 1; nanos -= 1e9 }
        p.pointee.seconds = Int64(seconds)
        p.pointee.nanos = Int32(nanos)
        return p
    }
}
