import OmniNN
import OmniTensor

/// Adam with decoupled weight decay (Loshchilov & Hutter), as `torch.optim.AdamW`; with
/// `decoupledWeightDecay: false` it is `torch.optim.Adam` (L2 added to the gradient).
///
/// Weight decay comes from the parameter groups; by default (``ParameterGroup/defaults(weightDecay:)``)
/// matrices decay and biases / norm weights do not.
public final class AdamW: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    public let groups: [ParameterGroup]
    public let decoupledWeightDecay: Bool
    let state = SlotState()

    public var step: Int { state.step }

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0.01, groups: [ParameterGroup]? = nil, decoupledWeightDecay: Bool = true) {
        precondition(learningRate >= 0 && (0..<1).contains(beta1) && (0..<1).contains(beta2) && epsilon >= 0,
                     "AdamW: invalid hyper-parameters lr \(learningRate), betas (\(beta1), \(beta2)), eps \(epsilon)")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.groups = groups ?? ParameterGroup.defaults(weightDecay: weightDecay)
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    public func update(_ model: Module, gradients: [String: Tensor]) {
        state.step += 1
        var updated: [String: Tensor] = [:]
        for (path, p, g) in Self.work(model, gradients) {
            let (wd, scale) = groups.group(for: path, p)
            let m = state.get("exp_avg", path) ?? Tensor.zeros(p.shape)
            let v = state.get("exp_avg_sq", path) ?? Tensor.zeros(p.shape)
            let r = OptimizerKernels.adam(parameter: p, gradient: g, firstMoment: m, secondMoment: v,
                                          learningRate: learningRate * scale, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                          weightDecay: wd, step: state.step, decoupled: decoupledWeightDecay)
            state.set("exp_avg", path, r.firstMoment)
            state.set("exp_avg_sq", path, r.secondMoment)
            updated[path] = r.parameter
        }
        model.update(updated)
    }

    public func stateDict() -> [String: Tensor] { state.stateDict() }
    public func load(stateDict: [String: Tensor]) throws(OptimizerStateError) { try state.load(stateDict, slotNames: ["exp_avg", "exp_avg_sq"]) }
}

/// `torch.optim.Adam`: ``AdamW`` with the weight decay added to the gradient (L2), default decay 0.
public func Adam(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                 weightDecay: Float = 0, groups: [ParameterGroup]? = nil) -> AdamW {
    AdamW(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
          groups: groups ?? [ParameterGroup(weightDecay: weightDecay) { _, _ in true }], decoupledWeightDecay: false)
}
