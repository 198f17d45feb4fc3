import OmniTensor

/// A module mapping one tensor to one tensor (norms, linear maps, MLPs, dropout), so containers can
/// hold "some normalisation" or "some feed-forward block" without knowing which.
open class UnaryModule: Module, @unchecked Sendable {
    public override init() { super.init() }

    open func callAsFunction(_ x: Tensor) -> Tensor {
        preconditionFailure("\(type(of: self)) must override callAsFunction(_:)")
    }
}
