// The storage allocator's cache of freed large blocks: reuse happens, and reused memory never
// leaks old values into tensors that promise zeros or get overwritten.
import COmniKernels
import Testing
@testable import OmniTensor

@Suite(.serialized) struct StorageTests {
    /// An odd size (≈ 4.6 MiB of float32) that no other test allocates, so the freed block is ours.
    static let oddCount = 1_213_417

    @Test func largeBlockIsReusedForTheSameSizeClass() {
        var first: Tensor? = Tensor.full([Self.oddCount], 3)
        let address = first!.storage.pointer
        first = nil
        #expect(omni_storage_cached_bytes() >= Self.oddCount * 4)
        // a slightly different size in the same class (+0.1%) reuses the block
        let second = Tensor.full([Self.oddCount + 1000], 5)
        #expect(second.storage.pointer == address, "the freed block was not reused")
        #expect(second.toArray().allSatisfy { $0 == 5 })
    }

    @Test func zerosFromAReusedBlockAreZero() {
        for seed in testSeeds {
            let count = Self.oddCount + 2048 + Int(seed)
            do { _ = Tensor.full([count], Float(seed) + 0.5) }  // leaves nonzero values in the cache
            let z = Tensor.zeros([count])
            let v = z.toArray()
            let firstNonzero = v.firstIndex { $0 != 0 }
            #expect(firstNonzero == nil, "zeros() has \(v[firstNonzero ?? 0]) at \(firstNonzero ?? -1)")
        }
    }

    @Test func releasedCacheHoldsNothingAndAllocationStillWorks() {
        omni_storage_release_cache()
        let t = Tensor.full([2, 700_000], 1.5)
        #expect(t.sum().item() == 2_100_000)
    }
}
