// Masked image modelling as in MAE (He et al. 2022, "Masked Autoencoders Are Scalable Vision
// Learners", §3): the decoder predicts the pixels of every patch, the loss is the mean squared
// error on the masked patches only, optionally against per-patch normalised pixels
// (`norm_pix_loss`, which the paper finds improves the representation).
import OmniTensor

/// Mean squared error of predicted patches on the masked patches only (MAE's loss).
///
/// With `prediction` and `target` [B, N, P] (P values per patch, e.g. from
/// ``OmniTensor/Tensor/patchified(patchSize:)``) and `mask` bool [B, N] (true = masked):
///
///     target' = (target − mean) / √(var + ε)   per patch, when normalizeTargets (var unbiased, as torch.var)
///     loss    = Σ_masked mean_P (prediction − target')² / #masked
///
/// No masked patch gives 0 (with a zero gradient). The target is used as given: pass it detached
/// when it is computed from the model's own input.
///
/// ```swift
/// let loss = MaskedPatchLoss(normalizeTargets: true)
/// let value = loss(prediction: decoder(latent), target: images.patchified(patchSize: 16), mask: mask)
/// ```
public struct MaskedPatchLoss: Sendable, Hashable {
    /// Normalise each target patch to zero mean and unit variance (MAE's `norm_pix_loss`).
    public var normalizeTargets: Bool
    /// ε added to the variance when normalising (MAE: 1e-6).
    public var epsilon: Float

    public init(normalizeTargets: Bool = false, epsilon: Float = 1e-6) {
        precondition(epsilon >= 0, "MaskedPatchLoss: epsilon must be non-negative, got \(epsilon)")
        self.normalizeTargets = normalizeTargets
        self.epsilon = epsilon
    }

    /// The loss, a scalar. `prediction`, `target` float32 [B, N, P]; `mask` bool [B, N].
    public func callAsFunction(prediction: Tensor, target: Tensor, mask: Tensor) -> Tensor {
        precondition(prediction.rank == 3 && prediction.shape == target.shape,
                     "MaskedPatchLoss: prediction \(prediction.shape) and target \(target.shape) must be the same [B, N, P]")
        precondition(mask.dtype == .bool && mask.shape == Array(prediction.shape[0..<2]),
                     "MaskedPatchLoss: mask must be bool \(Array(prediction.shape[0..<2])), got \(mask.dtype) \(mask.shape)")
        var goal = target                                                                  // [B, N, P]
        if normalizeTargets {
            precondition(target.shape[2] >= 2, "MaskedPatchLoss: normalising needs at least 2 values per patch, got \(target.shape[2])")
            let mean = target.mean(axis: -1, keepDims: true)                               // [B, N, 1]
            let variance = target.variance(axes: [-1], unbiased: true, keepDims: true)     // [B, N, 1]
            goal = (target - mean) * (variance + epsilon).rsqrt()
        }
        let perPatch = (prediction - goal).square().mean(axis: -1)                         // [B, N]
        return Self.maskedMean(perPatch, mask)
    }

    /// Σ values·mask / Σ mask for values [B, N] and a bool mask [B, N]; 0 when nothing is masked.
    static func maskedMean(_ values: Tensor, _ mask: Tensor) -> Tensor {
        let count = mask.toBoolArray().reduce(0) { $0 + ($1 ? 1 : 0) }
        return (values * mask.converted(to: .float32)).sum() * (1 / Float(Swift.max(count, 1)))
    }
}
