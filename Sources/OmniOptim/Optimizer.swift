import OmniNN
import OmniTensor

/// Updates a module's trainable parameters from their gradients.
///
/// Optimizers keep per-parameter state by dotted path, so state follows the parameter through
/// checkpoints: ``stateDict()`` returns it as tensors (plus the step count) and ``load(stateDict:)``
/// restores it exactly.
///
/// ```swift
/// let optimizer = AdamW(learningRate: 3e-4, weightDecay: 0.1)
/// for step in 0..<steps {
///     let (loss, grads) = valueAndGrad(model) { m in m.loss(batch) }
///     optimizer.learningRate = schedule.learningRate(at: step)
///     optimizer.update(model, gradients: clipByGlobalNorm(grads, maxNorm: 1).gradients)
/// }
/// ```
public protocol Optimizer: AnyObject {
    /// The base learning rate (groups may scale it).
    var learningRate: Float { get set }
    /// Steps taken so far.
    var step: Int { get }
    /// Applies one update to every trainable, unfrozen parameter that has a gradient.
    func update(_ model: Module, gradients: [String: Tensor])
    /// The optimizer state: per-parameter tensors under `"<slot>.<path>"` plus `"step"`.
    func stateDict() -> [String: Tensor]
    /// Restores state saved by ``stateDict()``; throws naming the first bad key.
    func load(stateDict: [String: Tensor]) throws(OptimizerStateError)
}

/// Optimizer state that does not fit: names the key and what is wrong.
public struct OptimizerStateError: Error, CustomStringConvertible, Sendable {
    public let key: String
    public let message: String
    public var description: String { "optimizer state \(key): \(message)" }
}

/// Shared state handling: slots of per-parameter tensors by path.
final class SlotState {
    var slots: [String: [String: Tensor]] = [:]   // slot name -> path -> tensor
    var step = 0

    func get(_ slot: String, _ path: String) -> Tensor? { slots[slot]?[path] }
    func set(_ slot: String, _ path: String, _ t: Tensor) { slots[slot, default: [:]][path] = t }

    func stateDict() -> [String: Tensor] {
        var out: [String: Tensor] = ["step": Tensor([step])]
        for (slot, m) in slots { for (p, t) in m { out["\(slot).\(p)"] = t } }
        return out
    }

    func load(_ dict: [String: Tensor], slotNames: [String]) throws(OptimizerStateError) {
        guard let s = dict["step"] else { throw OptimizerStateError(key: "step", message: "missing") }
        guard s.count == 1, !s.dtype.isFloatingPoint else { throw OptimizerStateError(key: "step", message: "must be one integer, got \(s.dtype) \(s.shape)") }
        var newSlots: [String: [String: Tensor]] = [:]
        for (k, t) in dict where k != "step" {
            guard let dot = k.firstIndex(of: "."), slotNames.contains(String(k[..<dot])) else {
                throw OptimizerStateError(key: k, message: "unknown slot (expected one of \(slotNames.joined(separator: ", ")))")
            }
            guard t.dtype == .float32 else { throw OptimizerStateError(key: k, message: "must be float32, got \(t.dtype)") }
            newSlots[String(k[..<dot]), default: [:]][String(k[k.index(after: dot)...])] = t
        }
        slots = newSlots
        step = s.toIntArray()[0]
    }
}

extension Optimizer {
    /// The (path, parameter, gradient) triples an update touches, checking gradient shapes.
    static func work(_ model: Module, _ gradients: [String: Tensor]) -> [(String, Tensor, Tensor)] {
        model.trainableParameters().compactMap { path, p in
            guard let g = gradients[path] else { return nil }
            precondition(g.shape == p.shape, "optimizer: gradient for \(path) has shape \(g.shape), parameter \(p.shape)")
            return (path, p, g)
        }
    }
}
