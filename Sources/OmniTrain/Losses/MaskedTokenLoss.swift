// Masked language modelling (BERT, Devlin et al. 2019): predict the original token at the
// positions that were masked, and nowhere else.
import OmniTensor

/// Cross-entropy on masked positions only, for masked-token pretraining of a text encoder.
///
/// `mask` (bool [B, T]) marks the positions that were corrupted (see
/// ``Masking/corruptTokens(_:eligible:ratio:maskTokenID:vocabularySize:generator:)``); the loss is
/// the mean cross-entropy of the original ids at those positions. With no masked position the
/// loss is 0 (with a zero gradient).
///
/// ```swift
/// let corrupted = Masking.corruptTokens(ids, eligible: realTokens, maskTokenID: 103,
///                                       vocabularySize: 30522, generator: g)
/// let loss = MaskedTokenLoss()(logits: encoder(corrupted.inputs), targets: ids, mask: corrupted.mask)
/// ```
public struct MaskedTokenLoss: Sendable, Hashable {
    /// ε of label smoothing (0: none).
    public var labelSmoothing: Float

    public init(labelSmoothing: Float = 0) {
        precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "MaskedTokenLoss: labelSmoothing must be in [0, 1], got \(labelSmoothing)")
        self.labelSmoothing = labelSmoothing
    }

    /// The mean cross-entropy of `logits` (float32 [B, T, V]) against the original `targets`
    /// (integer [B, T]) over the positions where `mask` (bool [B, T]) is true; a scalar.
    public func callAsFunction(logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor {
        precondition(logits.rank == 3, "MaskedTokenLoss: logits must be [B, T, V], got \(logits.shape)")
        let bt = Array(logits.shape[0..<2])
        precondition(targets.shape == bt, "MaskedTokenLoss: targets of shape \(targets.shape) do not match logits \(logits.shape)")
        precondition(mask.dtype == .bool && mask.shape == bt, "MaskedTokenLoss: mask must be bool \(bt), got \(mask.dtype) \(mask.shape)")
        let ids = targets.toIntArray(), masked = mask.toBoolArray()
        let vocabulary = logits.shape[2]
        // Everything not masked becomes an ignored target (-1 is never a valid class).
        var marked = [Int](repeating: -1, count: ids.count)
        for i in 0..<ids.count where masked[i] {
            precondition(ids[i] >= 0 && ids[i] < vocabulary,
                         "MaskedTokenLoss: target \(ids[i]) at flat position \(i) is out of range for \(vocabulary) classes")
            marked[i] = ids[i]
        }
        return TokenCrossEntropy(ignoreIndex: -1, labelSmoothing: labelSmoothing)(logits: logits, targets: Tensor(marked, shape: bt))
    }
}
