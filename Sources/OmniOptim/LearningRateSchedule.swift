import Foundation

/// A learning rate as a function of the (0-based) step.
///
/// ```swift
/// let schedule = LearningRateSchedule.warmupCosine(peak: 3e-4, warmupSteps: 100, totalSteps: 5000, minimum: 3e-5)
/// optimizer.learningRate = schedule.learningRate(at: step)
/// ```
public enum LearningRateSchedule: Sendable, Codable, Equatable {
    /// Always `value`.
    case constant(Float)
    /// Linear warm-up from 0 to `peak` over `warmupSteps`, then cosine decay to `minimum` at `totalSteps`.
    case warmupCosine(peak: Float, warmupSteps: Int, totalSteps: Int, minimum: Float)
    /// Linear warm-up to `peak`, then linear decay to `minimum` at `totalSteps`.
    case warmupLinear(peak: Float, warmupSteps: Int, totalSteps: Int, minimum: Float)
    /// `initial · gamma^(step / stepSize)` (PyTorch's StepLR).
    case step(initial: Float, stepSize: Int, gamma: Float)

    public func learningRate(at step: Int) -> Float {
        switch self {
        case .constant(let v):
            return v
        case let .warmupCosine(peak, warmup, total, minimum):
            if step < warmup { return peak * Float(step + 1) / Float(warmup) }
            if step >= total { return minimum }
            let progress = Double(step - warmup) / Double(Swift.max(total - warmup, 1))
            return minimum + Float(0.5 * (1 + cos(Double.pi * progress))) * (peak - minimum)
        case let .warmupLinear(peak, warmup, total, minimum):
            if step < warmup { return peak * Float(step + 1) / Float(warmup) }
            if step >= total { return minimum }
            let progress = Float(step - warmup) / Float(Swift.max(total - warmup, 1))
            return peak + (minimum - peak) * progress
        case let .step(initial, stepSize, gamma):
            return initial * Float(pow(Double(gamma), Double(step / Swift.max(stepSize, 1))))
        }
    }
}
