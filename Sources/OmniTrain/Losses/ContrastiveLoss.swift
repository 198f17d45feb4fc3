// Symmetric InfoNCE over modality pairs: CLIP's loss (Radford et al. 2021) applied to every pair
// a pairing names — all modalities to one anchor as in ImageBind (Girdhar et al. 2023, which binds
// each modality to images), or all pairs.
import OmniData
import OmniTensor

/// Symmetric InfoNCE (the CLIP loss) for any set of modality pairs.
///
/// For a pair (a, b) and the n samples that have both modalities, with L2-normalised embeddings
/// A, B [n, E] and scale s = 1/τ:
///
///     logits = s · A Bᵀ                                  // [n, n], row i = sample i's a vs every b
///     loss   = ½ · (CE(logits, 0..<n) + CE(logitsᵀ, 0..<n))
///
/// where CE is the mean cross-entropy over rows: sample i's b is the positive for its a, the
/// other n − 1 are negatives, and the same from b to a.
///
/// - Missing modalities: `presence[m]` (bool [B]) marks which samples carry modality m (all of
///   them when absent). A pair's loss uses only the samples with both of its modalities; a pair
///   with fewer than ``minimumSamples`` such samples (no negatives) is left out, as is a pair
///   whose modality is not in the dictionary at all.
/// - The total is the mean of the included pairs' losses (0, with no gradient, when none is
///   included).
///
/// The embeddings should already be L2-normalised (see ``OmniTensor/Tensor/l2Normalized(axis:epsilon:)``);
/// the loss does not normalise them, so that callers can share one normalised tensor with the
/// retrieval metrics.
///
/// ```swift
/// let logitScale = LogitScale()
/// let loss = ContrastiveLoss(pairing: .anchor(.text))
/// let out = loss([.text: t, .image: i, .audio: a],               // each [B, E], normalised
///                presence: [.audio: hasAudio],                  // bool [B]
///                scale: logitScale())
/// out.total.backward()
/// print(out.pairs[ModalityPair(.text, .audio)]!.item())
/// ```
public struct ContrastiveLoss: Sendable {
    /// Which modality pairs are contrasted.
    public enum Pairing: Sendable, Hashable {
        /// Every other modality against the anchor (ImageBind-style binding).
        case anchor(Modality)
        /// Every pair of distinct modalities present.
        case allPairs
        /// Exactly these pairs.
        case pairs([ModalityPair])
    }

    /// Which pairs are contrasted.
    public var pairing: Pairing
    /// A pair needs at least this many samples with both modalities to be included (≥ 2: with one
    /// sample there are no negatives and the loss is identically 0).
    public var minimumSamples: Int

    public init(pairing: Pairing = .allPairs, minimumSamples: Int = 2) {
        precondition(minimumSamples >= 2, "ContrastiveLoss: minimumSamples must be at least 2, got \(minimumSamples)")
        self.pairing = pairing
        self.minimumSamples = minimumSamples
    }

    /// The pairs this pairing names among `modalities` (sorted).
    public func pairs(among modalities: some Sequence<Modality>) -> [ModalityPair] {
        let present = Set(modalities)
        switch pairing {
        case .anchor(let anchor):
            guard present.contains(anchor) else { return [] }
            return present.filter { $0 != anchor }.map { ModalityPair(anchor, $0) }.sorted()
        case .allPairs:
            return ModalityPair.all(present)
        case .pairs(let list):
            return Array(Set(list.filter { present.contains($0.first) && present.contains($0.second) })).sorted()
        }
    }

    /// The loss over `embeddings` (each float32 [B, E], one B and E for all), using `presence`
    /// (bool [B] per modality; a modality without an entry is present in every sample) and the
    /// scale s = 1/τ (a scalar tensor, e.g. ``LogitScale/callAsFunction()``).
    public func callAsFunction(_ embeddings: [Modality: Tensor], presence: [Modality: Tensor] = [:],
                               scale: Tensor) -> ContrastiveLossOutput {
        let op = "ContrastiveLoss"
        precondition(scale.count == 1, "\(op): scale must be a scalar, got shape \(scale.shape)")
        let scalar = scale.reshaped([])
        var batch: Int?, width: Int?
        for m in embeddings.keys.sorted() {
            let e = embeddings[m]!
            precondition(e.rank == 2 && e.dtype == .float32, "\(op): \(m.rawValue) embeddings must be float32 [B, E], got \(e.dtype) \(e.shape)")
            if let batch, let width {
                precondition(e.shape == [batch, width],
                             "\(op): \(m.rawValue) embeddings have shape \(e.shape), others [\(batch), \(width)]")
            } else { (batch, width) = (e.shape[0], e.shape[1]) }
        }
        var present: [Modality: [Bool]] = [:]
        for (m, mask) in presence {
            precondition(mask.dtype == .bool && mask.rank == 1, "\(op): presence[\(m.rawValue)] must be bool [B], got \(mask.dtype) \(mask.shape)")
            if let batch {
                precondition(mask.shape[0] == batch, "\(op): presence[\(m.rawValue)] has \(mask.shape[0]) entries for a batch of \(batch)")
            }
            present[m] = mask.toBoolArray()
        }

        var losses: [ModalityPair: Tensor] = [:], counts: [ModalityPair: Int] = [:]
        for pair in pairs(among: embeddings.keys) {
            let a = present[pair.first], b = present[pair.second]
            let rows = (0..<batch!).filter { (a?[$0] ?? true) && (b?[$0] ?? true) }
            counts[pair] = rows.count
            guard rows.count >= minimumSamples else { continue }
            losses[pair] = Self.symmetricInfoNCE(select(embeddings[pair.first]!, rows), select(embeddings[pair.second]!, rows), scale: scalar)
        }
        let included = losses.keys.sorted()
        let total = included.isEmpty ? Tensor(0)
            : included.dropFirst().reduce(losses[included[0]]!) { $0 + losses[$1]! } * (1 / Float(included.count))
        return ContrastiveLossOutput(total: total, pairs: losses, sampleCounts: counts)
    }

    /// The rows of `x` [B, E] at `rows` (all of them without a copy when nothing is missing).
    private func select(_ x: Tensor, _ rows: [Int]) -> Tensor {
        rows.count == x.shape[0] ? x : x.indexSelect(axis: 0, indices: Tensor(rows))
    }

    /// ½ (CE(s·a bᵀ) + CE(s·b aᵀ)) with targets on the diagonal; a, b [n, E], s a scalar.
    static func symmetricInfoNCE(_ a: Tensor, _ b: Tensor, scale: Tensor) -> Tensor {
        let n = a.shape[0]
        let logits = a.matmul(b.transposed()) * scale                                    // [n, n]
        let targets = Tensor.arange(n)                                                    // int64 [n]
        let aToB = Tensor.crossEntropy(logits: logits, targets: targets)
        let bToA = Tensor.crossEntropy(logits: logits.transposed(), targets: targets)
        return (aToB + bToA) * 0.5
    }
}

/// What ``ContrastiveLoss`` returns.
public struct ContrastiveLossOutput: @unchecked Sendable {
    /// The mean of the included pairs' losses, a scalar (0 without gradient when no pair is included).
    public var total: Tensor
    /// Each included pair's symmetric InfoNCE loss (scalar tensors).
    public var pairs: [ModalityPair: Tensor]
    /// For every pair the pairing names, how many samples had both modalities (including pairs
    /// left out for having too few).
    public var sampleCounts: [ModalityPair: Int]
}
