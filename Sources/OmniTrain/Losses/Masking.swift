// The masks of masked-modelling pretraining. Every function draws from an explicit Generator,
// row after row in order, so the same seed gives the same masks.
import OmniTensor

/// Seeded mask generators for masked-token, masked-patch and masked-frame pretraining.
///
/// Masks are bool tensors [B, T], true where a position is masked (hidden from the encoder and
/// predicted by the loss). Each row masks exactly `round(ratio · length)` positions of its real
/// length (`lengths[b]`, default T; padding is never masked), so the ratio holds per sample rather
/// than on average.
///
/// ```swift
/// let g = Generator(seed: 7)
/// let patches = Masking.randomMask(batchSize: 8, length: 196, ratio: 0.75, generator: g)     // MAE
/// let frames = Masking.spanMask(batchSize: 8, length: 300, ratio: 0.5, spanLength: 10, generator: g)
/// ```
public enum Masking {
    /// How many of `length` positions a ratio masks: round(ratio · length), half away from zero.
    public static func maskedCount(length: Int, ratio: Double) -> Int {
        Int((Double(length) * ratio).rounded())
    }

    /// A uniformly random subset of exactly `round(ratio · lengths[b])` positions per row, among
    /// the first `lengths[b]` (MAE's random masking). Bool [B, T].
    public static func randomMask(batchSize: Int, length: Int, ratio: Double, lengths: [Int]? = nil,
                                  generator: Generator) -> Tensor {
        let real = checkedLengths("randomMask", batchSize, length, ratio, lengths)
        var mask = [Bool](repeating: false, count: batchSize * length)
        for b in 0..<batchSize {
            let n = real[b], k = maskedCount(length: n, ratio: ratio)
            // Partial Fisher–Yates: the first k entries of a uniform shuffle.
            var order = Array(0..<n)
            for i in 0..<k {
                let j = i + generator.nextInt(below: n - i)
                order.swapAt(i, j)
                mask[b * length + order[i]] = true
            }
        }
        return Tensor(mask, shape: [batchSize, length])
    }

    /// Contiguous spans: per row, exactly `round(ratio · lengths[b])` positions masked in
    /// ⌈count / spanLength⌉ non-overlapping spans of `spanLength` frames (the last one shorter
    /// when `spanLength` does not divide the count), placed uniformly at random among all such
    /// arrangements. Two spans may touch and form a longer run. Bool [B, T].
    ///
    /// Spans force the model to predict from context rather than by interpolating a neighbour,
    /// which is why audio models (wav2vec 2.0, HuBERT) mask spans of ~10 frames.
    public static func spanMask(batchSize: Int, length: Int, ratio: Double, spanLength: Int, lengths: [Int]? = nil,
                                generator: Generator) -> Tensor {
        precondition(spanLength >= 1, "spanMask: spanLength must be at least 1, got \(spanLength)")
        let real = checkedLengths("spanMask", batchSize, length, ratio, lengths)
        var mask = [Bool](repeating: false, count: batchSize * length)
        for b in 0..<batchSize {
            let n = real[b], k = maskedCount(length: n, ratio: ratio)
            guard k > 0 else { continue }
            // Blocks (the spans, in a random order) and n − k single unmasked frames form a
            // sequence of items; choosing which item slots hold blocks (a uniform k-subset of
            // slots, by partial Fisher–Yates) is a uniform arrangement of non-overlapping spans.
            let spanCount = (k + spanLength - 1) / spanLength
            var spans = [Int](repeating: spanLength, count: spanCount)
            spans[spanCount - 1] = k - spanLength * (spanCount - 1)
            for i in stride(from: spanCount - 1, to: 0, by: -1) { spans.swapAt(i, generator.nextInt(below: i + 1)) }
            let items = n - k + spanCount
            var slots = Array(0..<items)
            for i in 0..<spanCount { slots.swapAt(i, i + generator.nextInt(below: items - i)) }
            let blockSlots = slots[0..<spanCount].sorted()
            var position = 0, nextBlock = 0
            for item in 0..<items {
                if nextBlock < spanCount && blockSlots[nextBlock] == item {
                    for t in position..<(position + spans[nextBlock]) { mask[b * length + t] = true }
                    position += spans[nextBlock]
                    nextBlock += 1
                } else {
                    position += 1
                }
            }
        }
        return Tensor(mask, shape: [batchSize, length])
    }

    /// BERT's corruption for masked-token pretraining: `round(ratio · #eligible)` eligible
    /// positions per row are chosen uniformly; of those, 80% become `maskTokenID`, 10% a uniformly
    /// random token of `0..<vocabularySize`, and 10% keep their token (each chosen position draws
    /// which, as in BERT and Hugging Face's data collator).
    ///
    /// - Parameters:
    ///   - ids: integer token ids [B, T].
    ///   - eligible: bool [B, T], true for positions that may be masked (real, non-special tokens).
    /// - Returns: the corrupted ids (int64 [B, T]) and the mask of chosen positions (bool [B, T]),
    ///   which is where ``MaskedTokenLoss`` predicts the original ids.
    public static func corruptTokens(_ ids: Tensor, eligible: Tensor, ratio: Double = 0.15, maskTokenID: Int,
                                     vocabularySize: Int, generator: Generator) -> MaskedTokens {
        precondition(ids.rank == 2 && !ids.dtype.isFloatingPoint && ids.dtype != .bool,
                     "corruptTokens: ids must be integer [B, T], got \(ids.dtype) \(ids.shape)")
        precondition(eligible.dtype == .bool && eligible.shape == ids.shape,
                     "corruptTokens: eligible must be bool \(ids.shape), got \(eligible.dtype) \(eligible.shape)")
        precondition(ratio >= 0 && ratio <= 1, "corruptTokens: ratio must be in [0, 1], got \(ratio)")
        precondition(vocabularySize > 0 && maskTokenID >= 0 && maskTokenID < vocabularySize,
                     "corruptTokens: maskTokenID \(maskTokenID) must be in 0..<\(vocabularySize)")
        let (b, t) = (ids.shape[0], ids.shape[1])
        var tokens = ids.toIntArray()
        let allowed = eligible.toBoolArray()
        var mask = [Bool](repeating: false, count: b * t)
        for row in 0..<b {
            var candidates = (0..<t).filter { allowed[row * t + $0] }
            let k = maskedCount(length: candidates.count, ratio: ratio)
            for i in 0..<k {
                candidates.swapAt(i, i + generator.nextInt(below: candidates.count - i))
                let p = row * t + candidates[i]
                mask[p] = true
                let u = generator.nextDouble()
                if u < 0.8 { tokens[p] = maskTokenID }
                else if u < 0.9 { tokens[p] = generator.nextInt(below: vocabularySize) }
            }
        }
        return MaskedTokens(inputs: Tensor(tokens, shape: [b, t]), mask: Tensor(mask, shape: [b, t]))
    }

    private static func checkedLengths(_ op: String, _ batchSize: Int, _ length: Int, _ ratio: Double, _ lengths: [Int]?) -> [Int] {
        precondition(batchSize >= 0 && length >= 0, "\(op): batchSize \(batchSize) and length \(length) must be non-negative")
        precondition(ratio >= 0 && ratio <= 1, "\(op): ratio must be in [0, 1], got \(ratio)")
        guard let lengths else { return [Int](repeating: length, count: batchSize) }
        precondition(lengths.count == batchSize, "\(op): \(lengths.count) lengths for a batch of \(batchSize)")
        for (b, n) in lengths.enumerated() {
            precondition(n >= 0 && n <= length, "\(op): lengths[\(b)] = \(n) is outside 0...\(length)")
        }
        return lengths
    }
}

/// Token ids after ``Masking/corruptTokens(_:eligible:ratio:maskTokenID:vocabularySize:generator:)``.
public struct MaskedTokens: @unchecked Sendable {
    /// The corrupted ids, int64 [B, T]: the encoder's input.
    public var inputs: Tensor
    /// Bool [B, T], true at the positions chosen for prediction.
    public var mask: Tensor
}
