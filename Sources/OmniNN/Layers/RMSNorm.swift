import OmniTensor

/// Root-mean-square normalisation over the last axis (key `weight`), as in T5 and Llama.
public final class RMSNorm: UnaryModule, @unchecked Sendable {
    @ParameterInfo(key: "weight") public var weight: Tensor
    public let dimension: Int
    public let eps: Float

    public init(_ dimension: Int, eps: Float = 1e-6) {
        self.dimension = dimension
        self.eps = eps
        super.init()
        self.weight = Tensor.ones([dimension])
    }

    /// [..., D] → [..., D]
    public override func callAsFunction(_ x: Tensor) -> Tensor { x.rmsNorm(axisCount: 1, weight: weight, eps: eps) }

    public override var summary: String { "RMSNorm(\(dimension), eps: \(eps))" }
}
