import OmniNN
import OmniTensor

/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay, as
/// `torch.optim.SGD` (weight decay is added to the gradient; by default it applies to all parameters).
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, dampening: Float, nesterov: Bool
    public let groups: [ParameterGroup]
    let state = SlotState()

    public var step: Int { state.step }

    public init(learningRate: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0,
                nesterov: Bool = false, groups: [ParameterGroup]? = nil) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and dampening 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.groups = groups ?? [ParameterGroup(weightDecay: weightDecay) { _, _ in true }]
    }

    public func update(_ model: Module, gradients: [String: Tensor]) {
        state.step += 1
        var updated: [String: Tensor] = [:]
        for (path, p, g) in Self.work(model, gradients) {
            let (wd, scale) = groups.group(for: path, p)
            let r = OptimizerKernels.sgd(parameter: p, gradient: g, buffer: state.get("momentum_buffer", path),
                                         learningRate: learningRate * scale, momentum: momentum, dampening: dampening,
                                         weightDecay: wd, nesterov: nesterov)
            if let b = r.buffer { state.set("momentum_buffer", path, b) }
            updated[path] = r.parameter
        }
        model.update(updated)
    }

    public func stateDict() -> [String: Tensor] { state.stateDict() }
    public func load(stateDict: [String: Tensor]) throws(OptimizerStateError) { try state.load(stateDict, slotNames: ["momentum_buffer"]) }
}
