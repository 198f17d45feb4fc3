import OmniTensor

/// Cross-entropy of token logits [B, T, V] against token ids [B, T], with label smoothing and an
/// ignore index — ``OmniTensor/Tensor/crossEntropy(logits:targets:ignoreIndex:labelSmoothing:reduction:)``
/// for sequence models.
///
/// Targets equal to ``ignoreIndex`` (padding, prompt tokens in instruction tuning) contribute
/// nothing, and the `.mean` reduction divides by the number of targets that are not ignored.
/// When every target is ignored the mean is 0 with a zero gradient (PyTorch gives NaN), so a batch
/// made only of prompts cannot poison a run. The logits are used as they are: shift them against
/// the targets yourself for next-token prediction (`logits[:, :-1]` against `ids[:, 1:]`).
///
/// ```swift
/// let loss = TokenCrossEntropy(labelSmoothing: 0.1)
/// let value = loss(logits: model(ids), targets: labels)       // labels -100 where ignored
/// ```
public struct TokenCrossEntropy: Sendable, Hashable {
    /// Targets with this value are ignored (PyTorch's default, -100).
    public var ignoreIndex: Int
    /// ε of label smoothing: the target distribution is (1 − ε)·one-hot + ε/V.
    public var labelSmoothing: Float

    public init(ignoreIndex: Int = -100, labelSmoothing: Float = 0) {
        precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "TokenCrossEntropy: labelSmoothing must be in [0, 1], got \(labelSmoothing)")
        self.ignoreIndex = ignoreIndex
        self.labelSmoothing = labelSmoothing
    }

    /// The loss of `logits` (float32 [B, T, V]) against `targets` (integer [B, T]):
    /// a scalar for `.mean` and `.sum`, [B, T] for `.none` (0 at ignored positions).
    public func callAsFunction(logits: Tensor, targets: Tensor, reduction: Reduction = .mean) -> Tensor {
        precondition(logits.rank == 3, "TokenCrossEntropy: logits must be [B, T, V], got \(logits.shape)")
        precondition(targets.shape == Array(logits.shape[0..<2]),
                     "TokenCrossEntropy: targets of shape \(targets.shape) do not match logits \(logits.shape) (expected [B, T] = \(Array(logits.shape[0..<2])))")
        precondition(reduction != .batchMean, "TokenCrossEntropy: use .mean, .sum or .none")
        let (b, t, v) = (logits.shape[0], logits.shape[1], logits.shape[2])
        let perToken = Tensor.crossEntropy(logits: logits.reshaped([b * t, v]), targets: targets.reshaped([b * t]),
                                           ignoreIndex: ignoreIndex, labelSmoothing: labelSmoothing, reduction: .none)   // [B·T]
        switch reduction {
        case .none: return perToken.reshaped([b, t])
        case .sum: return perToken.sum()
        default:
            let counted = targets.toIntArray().reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) }
            return perToken.sum() * (1 / Float(Swift.max(counted, 1)))
        }
    }
}
