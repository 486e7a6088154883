import Foundation
import Synchronization

/// The first blocks of `CArena`s, kept between encodings and decodings: at
/// most `limit` (256 KiB), so the memory they hold is bounded whatever the
/// load; a block given back past that is freed.
enum SpareBlocks {
    /// How many blocks are kept at most.
    static let limit = 64

    /// Addresses of free blocks of `CArena.blockSize` bytes (integers: a raw
    /// pointer is not `Sendable`; the blocks belong to no one while here).
    private static let blocks = Mutex<[UInt]>({
        var blocks: [UInt] = []
        blocks.reserveCapacity(limit)
        return blocks
    }())

    /// A free block, or nil when none is kept.
    static func take() -> UnsafeMutableRawPointer? {
        let address = blocks.withLock { $0.popLast() }
        return address.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    /// Keeps `block` for the next arena, or frees it when `limit` are kept.
    static func giveBack(_ block: UnsafeMutableRawPointer) {
        let kept = blocks.withLock { blocks in
            guard blocks.count < limit else { return false }
            blocks.append(UInt(bitPattern: block))
            return true
        }
        if !kept { free(block) }
    }

    /// How many blocks are kept now (for tests).
    static var count: Int { blocks.withLock { $0.count } }
}
