// Masked frame prediction for audio and sensor signals: frames of a spectrogram or signal are
// masked (usually in spans, as in wav2vec 2.0 / HuBERT / data2vec), the encoder predicts them, and
// the loss is a regression on the masked frames only (MSE as in MAE-style audio models such as
// Audio-MAE, or L1 as in Mockingjay/TERA).
import OmniTensor

/// Regression loss on masked frames only, for masked audio/signal pretraining.
///
/// With `prediction` and `target` [B, T, F] (F features per frame) and `mask` bool [B, T]
/// (true = masked and to be predicted):
///
///     loss = Σ_masked Σ_F d(prediction, target) / (#masked · F),   d = (p − t)² or |p − t|
///
/// No masked frame gives 0 (with a zero gradient).
///
/// ```swift
/// let mask = Masking.spanMask(batchSize: b, length: frames, ratio: 0.5, spanLength: 10, generator: g)
/// let loss = MaskedFrameLoss(distance: .absolute)(prediction: p, target: mel, mask: mask)
/// ```
public struct MaskedFrameLoss: Sendable, Hashable {
    /// How a predicted value is compared with its target.
    public enum Distance: String, Sendable, Hashable, Codable {
        /// (p − t)², mean squared error.
        case squared
        /// |p − t|, mean absolute error.
        case absolute
    }

    /// The per-value distance.
    public var distance: Distance

    public init(distance: Distance = .squared) { self.distance = distance }

    /// The loss, a scalar. `prediction`, `target` float32 [B, T, F]; `mask` bool [B, T].
    public func callAsFunction(prediction: Tensor, target: Tensor, mask: Tensor) -> Tensor {
        precondition(prediction.rank == 3 && prediction.shape == target.shape,
                     "MaskedFrameLoss: prediction \(prediction.shape) and target \(target.shape) must be the same [B, T, F]")
        precondition(mask.dtype == .bool && mask.shape == Array(prediction.shape[0..<2]),
                     "MaskedFrameLoss: mask must be bool \(Array(prediction.shape[0..<2])), got \(mask.dtype) \(mask.shape)")
        let difference = prediction - target                                                // [B, T, F]
        let perFrame = (distance == .squared ? difference.square() : difference.abs()).mean(axis: -1)   // [B, T]
        return MaskedPatchLoss.maskedMean(perFrame, mask)
    }
}
