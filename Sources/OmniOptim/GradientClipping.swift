import Foundation
import OmniTensor

/// Scales all gradients together so their global L2 norm is at most `maxNorm`
/// (`torch.nn.utils.clip_grad_norm_`). Returns the clipped gradients and the norm before clipping.
public func clipByGlobalNorm(_ gradients: [String: Tensor], maxNorm: Float) -> (gradients: [String: Tensor], norm: Float) {
    precondition(maxNorm > 0, "clipByGlobalNorm: maxNorm must be positive, got \(maxNorm)")
    // sum in a fixed key order so the result does not depend on dictionary ordering
    let total = gradients.keys.sorted().reduce(0.0) { $0 + OptimizerKernels.sumOfSquares(gradients[$1]!) }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    guard coefficient < 1 else { return (gradients, norm) }
    return (gradients.mapValues { $0 * coefficient }, norm)
}

/// Sums gradients over micro-batches and hands back their mean, for gradient accumulation.
///
/// ```swift
/// var acc = GradientAccumulator()
/// for micro in batch.split(4) { acc.add(valueAndGrad(model) { $0.loss(micro) }.gradients) }
/// optimizer.update(model, gradients: acc.mean())
/// ```
public struct GradientAccumulator {
    private var sum: [String: Tensor] = [:]
    /// Micro-batches added since the last ``reset()``.
    public private(set) var count = 0

    public init() {}

    public mutating func add(_ gradients: [String: Tensor]) {
        for (k, g) in gradients { sum[k] = sum[k].map { $0 + g } ?? g }
        count += 1
    }

    /// The mean of the added gradients.
    public func mean() -> [String: Tensor] {
        precondition(count > 0, "GradientAccumulator.mean: no gradients added")
        return sum.mapValues { $0 * (1 / Float(count)) }
    }

    public mutating func reset() { sum = [:]; count = 0 }
}
