// CLIP's learnable temperature (Radford et al. 2021, "Learning Transferable Visual Models From
// Natural Language Supervision", §2.5): the logits of the contrastive loss are scaled by
// exp(t) with t = log(1/τ) trained with the model, initialised at τ = 0.07 and clipped so the
// scale never exceeds 100 (τ ≥ 0.01). OpenCLIP also keeps the scale ≥ 1 (τ ≤ 1).
import Foundation
import OmniNN
import OmniTensor

/// The learnable logit scale of a contrastive loss: one scalar parameter `logit_scale` = log(1/τ).
///
/// The scale is clamped twice, as in CLIP and OpenCLIP: ``callAsFunction()`` clamps the log-scale
/// into [log(1/τ_max), log(1/τ_min)] before `exp` (the gradient is zero outside the range), and
/// ``clampParameter()`` — to be called after each optimizer step — projects the stored value back
/// into the range so it can never drift past a bound where its gradient would stay zero.
///
/// ```swift
/// let logitScale = LogitScale()                       // τ = 0.07, scale ≈ 14.29
/// let loss = ContrastiveLoss(pairing: .allPairs)(embeddings, scale: logitScale())
/// // … after optimizer.update(model, gradients: …):
/// logitScale.clampParameter()
/// ```
public final class LogitScale: Module, @unchecked Sendable {
    /// log(1/τ), a scalar (shape []); its checkpoint key is CLIP's `logit_scale`.
    @ParameterInfo(key: "logit_scale") public var logScale: Tensor
    /// The smallest temperature τ allowed (the largest scale is 1/τ_min).
    public let minimumTemperature: Float
    /// The largest temperature τ allowed (the smallest scale is 1/τ_max).
    public let maximumTemperature: Float

    /// A scale starting at 1/`initialTemperature`, kept within [1/`maximumTemperature`, 1/`minimumTemperature`].
    ///
    /// Defaults follow CLIP/OpenCLIP: τ₀ = 0.07, τ ∈ [0.01, 1] (scale ∈ [1, 100]).
    public init(initialTemperature: Float = 0.07, minimumTemperature: Float = 0.01, maximumTemperature: Float = 1) {
        precondition(minimumTemperature > 0 && minimumTemperature <= maximumTemperature,
                     "LogitScale: need 0 < minimumTemperature ≤ maximumTemperature, got \(minimumTemperature) and \(maximumTemperature)")
        precondition(initialTemperature >= minimumTemperature && initialTemperature <= maximumTemperature,
                     "LogitScale: initialTemperature \(initialTemperature) is outside [\(minimumTemperature), \(maximumTemperature)]")
        self.minimumTemperature = minimumTemperature
        self.maximumTemperature = maximumTemperature
        super.init()
        logScale = Tensor([Foundation.log(1 / initialTemperature)], shape: [])
    }

    /// The bounds of `logit_scale`: [log(1/τ_max), log(1/τ_min)].
    public var logScaleRange: ClosedRange<Float> {
        Foundation.log(1 / maximumTemperature)...Foundation.log(1 / minimumTemperature)
    }

    /// The scale exp(clamp(logit_scale)) as a differentiable scalar tensor, shape [].
    public func callAsFunction() -> Tensor {
        logScale.clamped(min: logScaleRange.lowerBound, max: logScaleRange.upperBound).exp()
    }

    /// The current (clamped) scale 1/τ.
    public var scale: Float { GradMode.withoutGrad { callAsFunction().item() } }

    /// The current (clamped) temperature τ.
    public var temperature: Float { 1 / scale }

    /// Projects the stored `logit_scale` into its range (OpenCLIP's `logit_scale.clamp_(0, log 100)`
    /// after each step). Returns whether the value changed.
    @discardableResult
    public func clampParameter() -> Bool {
        let value = logScale.item(), range = logScaleRange
        let clamped = Swift.min(Swift.max(value, range.lowerBound), range.upperBound)
        guard clamped != value else { return false }
        update(["logit_scale": Tensor([clamped], shape: [])])
        return true
    }

    public override var summary: String { "LogitScale(τ ∈ [\(minimumTemperature), \(maximumTemperature)])" }
}
