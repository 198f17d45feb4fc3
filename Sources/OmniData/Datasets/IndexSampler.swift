import Foundation

/// A saved sampler position, for ``DataLoader/State``: one case per sampler kind.
public enum SamplerState: Codable, Sendable, Equatable {
    case modality(ModalitySampler.State)
    case shuffle(ShuffleSampler.State)
}

/// Draws the sample indices a ``DataLoader`` batches, one at a time, in epochs of
/// ``epochLength`` draws.
///
/// The loader is the only caller once it owns a sampler: it draws indices in batch order on one
/// lock, so the sequence never depends on thread timing. ``ModalitySampler`` (modality ratios) and
/// ``ShuffleSampler`` (a permutation per epoch) conform.
public protocol IndexSampler: AnyObject {
    /// Number of samples the indices refer to (`0..<sampleCount`).
    var sampleCount: Int { get }
    /// Draws per epoch.
    var epochLength: Int { get }
    /// The next index.
    func next() -> Int
    /// Everything needed to continue the sequence exactly.
    var samplerState: SamplerState { get }
    /// Continues from `state`; throws a ``DataLoaderError`` of kind `invalidState` when `state`
    /// was saved by a different kind of sampler or for different data.
    func restore(samplerState state: SamplerState) throws(DataLoaderError)
}

extension ModalitySampler: IndexSampler {
    public var sampleCount: Int { groups.reduce(0) { $0 + $1.count } }

    public var samplerState: SamplerState { .modality(state) }

    public func restore(samplerState: SamplerState) throws(DataLoaderError) {
        guard case .modality(let s) = samplerState else {
            throw DataLoaderError(kind: .invalidState, reason: "the saved sampler state is not a ModalitySampler's")
        }
        // The same checks `restore(_:)` makes as preconditions, thrown instead: a checkpoint from
        // another manifest is a user error, not a bug.
        let sizes = groups.map(\.count)
        guard s.groupSizes == sizes else {
            throw DataLoaderError(kind: .invalidState,
                                  reason: "the sampler state was saved for group sizes \(s.groupSizes), this manifest has \(sizes)")
        }
        guard s.orders.map(\.count) == sizes, s.cursors.count == sizes.count,
              zip(s.cursors, sizes).allSatisfy({ 0 <= $0 && $0 <= $1 }),
              zip(s.orders, groups).allSatisfy({ $0.sorted() == $1 }),
              s.step >= 0, s.step <= epochLength, s.epoch >= 0,
              s.generator.count == 4, s.generator.contains(where: { $0 != 0 }) else {
            throw DataLoaderError(kind: .invalidState,
                                  reason: "the sampler state is inconsistent with this manifest's groups and epoch length \(epochLength)")
        }
        restore(s)
    }
}
