import Foundation
import Testing

@testable import MarketplaceProtos

/// The codec's arena recycles its first block between uses (`SpareBlocks`):
/// what it hands the encoder must still be zeroed, the blocks it keeps must
/// stay bounded, and protobuf-c's unpacking into it must give back every field.
@Suite("codec arena")
struct CArenaTests {
    @Test("memory from a recycled block is zeroed, however the previous arena left it")
    func recycledMemoryIsZeroed() {
        let size = CArena.blockSize - 64
        for _ in 0..<200 {
            let dirty = CArena()
            dirty.raw(size: size, alignment: 8).initializeMemory(as: UInt8.self, repeating: 0xAB, count: size)
            dirty.releaseAll()

            let fresh = CArena()
            let bytes = UnsafeRawBufferPointer(start: fresh.raw(size: size, alignment: 8), count: size)
            #expect(bytes.allSatisfy { $0 == 0 })
            // A second allocation from the same block is zeroed as well.
            let next = UnsafeRawBufferPointer(start: fresh.raw(size: 32, alignment: 16), count: 32)
            #expect(next.allSatisfy { $0 == 0 })
            fresh.releaseAll()
        }
    }

    @Test("at most `limit` spare blocks are kept; the rest are freed")
    func spareBlocksAreBounded() {
        for _ in 0..<(SpareBlocks.limit + 10) {
            SpareBlocks.giveBack(malloc(CArena.blockSize)!)
        }
        #expect(SpareBlocks.count <= SpareBlocks.limit)
    }

    @Test("messages larger than one block, encoded and decoded from many tasks at once, round-trip")
    func concurrentLargeMessages() async throws {
        let payload = [UInt8](repeating: 7, count: 10_000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<16 {
                group.addTask {
                    for call in 0..<50 {
                        var request = TTRPCRequest(
                            service: "marketplace.users.v1.AccountUsers", method: "Get\(task)-\(call)", payload: payload)
                        request.metadata = (0..<200).map { TTRPCKeyValue(key: "key-\($0)", value: "value \(task) \(call) \($0)") }
                        let decoded = try TTRPCRequest(serializedBytes: request.serializedBytes())
                        #expect(decoded == request)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
