import Foundation
import OmniTensor

/// Every sample once per epoch, in an order that is a fresh seeded permutation each epoch
/// (PyTorch's `RandomSampler` with a per-epoch seed), or in file order when `shuffle` is false.
///
/// Epoch `e`'s order is a Fisher–Yates shuffle driven by a ``OmniTensor/Generator`` seeded from
/// `(seed, e)` alone, so any epoch can be recomputed and the ``state`` is just four integers.
///
/// ```swift
/// let sampler = ShuffleSampler(count: manifest.samples.count, seed: 42)
/// let firstEpoch = (0..<sampler.epochLength).map { _ in sampler.next() }
/// ```
public final class ShuffleSampler {
    /// Everything needed to resume a sampler exactly.
    public struct State: Codable, Sendable, Equatable {
        public var seed: UInt64
        public var count: Int
        public var shuffle: Bool
        /// Completed epochs.
        public var epoch: Int
        /// Draws taken in the current epoch.
        public var step: Int
    }

    /// Number of samples; every epoch draws each once.
    public let count: Int
    public private(set) var seed: UInt64
    public let shuffle: Bool
    /// Completed epochs.
    public private(set) var epoch = 0
    /// Draws taken in the current epoch.
    public private(set) var step = 0

    private var order: [Int] = []
    private var orderEpoch = -1

    /// A sampler over `count` (> 0) samples.
    public init(count: Int, seed: UInt64, shuffle: Bool = true) {
        precondition(count > 0, "ShuffleSampler: count must be positive, got \(count)")
        self.count = count
        self.seed = seed
        self.shuffle = shuffle
    }

    /// The order of epoch `epoch` (a permutation of `0..<count`).
    public func order(forEpoch epoch: Int) -> [Int] {
        var order = Array(0..<count)
        guard shuffle else { return order }
        let generator = Generator(seed: mixSeed(seed, UInt64(bitPattern: Int64(epoch))))
        var i = count - 1
        while i > 0 {
            order.swapAt(i, generator.nextInt(below: i + 1))
            i -= 1
        }
        return order
    }

    /// The next index.
    public func next() -> Int {
        if step == count { epoch += 1; step = 0 }
        if orderEpoch != epoch { order = order(forEpoch: epoch); orderEpoch = epoch }
        step += 1
        return order[step - 1]
    }

    /// The sampler's position, for checkpoints.
    public var state: State { State(seed: seed, count: count, shuffle: shuffle, epoch: epoch, step: step) }

    /// Continues from a saved ``state`` of a sampler over the same number of samples (its seed is adopted).
    public func restore(_ state: State) throws(DataLoaderError) {
        guard state.count == count, state.shuffle == shuffle else {
            throw DataLoaderError(kind: .invalidState,
                                  reason: "the sampler state is for \(state.count) samples (shuffle \(state.shuffle)), this sampler has \(count) (shuffle \(shuffle))")
        }
        guard state.epoch >= 0, (0...count).contains(state.step) else {
            throw DataLoaderError(kind: .invalidState, reason: "the sampler state has epoch \(state.epoch), step \(state.step) (of \(count))")
        }
        seed = state.seed
        epoch = state.epoch
        step = state.step
        orderEpoch = -1
    }
}

extension ShuffleSampler: IndexSampler {
    public var sampleCount: Int { count }
    public var epochLength: Int { count }
    public var samplerState: SamplerState { .shuffle(state) }
    public func restore(samplerState: SamplerState) throws(DataLoaderError) {
        guard case .shuffle(let s) = samplerState else {
            throw DataLoaderError(kind: .invalidState, reason: "the saved sampler state is not a ShuffleSampler's")
        }
        try restore(s)
    }
}

/// A 64-bit seed derived from `seed` and `values` by SplitMix64 finalisers: different tuples give
/// unrelated seeds, so per-epoch, per-sample and per-modality generators do not overlap.
func mixSeed(_ seed: UInt64, _ values: UInt64...) -> UInt64 {
    func splitmix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    var h = splitmix(seed)
    for v in values { h = splitmix(h ^ splitmix(v)) }
    return h
}
