import OmniTensor

/// Layer normalisation over the last axis (keys `weight`, `bias`), as `nn.LayerNorm(dimension)`.
public final class LayerNorm: UnaryModule, @unchecked Sendable {
    @ParameterInfo(key: "weight") public var weight: Tensor?
    @ParameterInfo(key: "bias") public var bias: Tensor?
    public let dimension: Int
    public let eps: Float

    public init(_ dimension: Int, eps: Float = 1e-5, affine: Bool = true, bias: Bool = true) {
        self.dimension = dimension
        self.eps = eps
        super.init()
        self.weight = affine ? Tensor.ones([dimension]) : nil
        self.bias = affine && bias ? Tensor.zeros([dimension]) : nil
    }

    /// [..., D] → [..., D]
    public override func callAsFunction(_ x: Tensor) -> Tensor {
        x.layerNorm(normalizedShape: [dimension], weight: weight, bias: bias, eps: eps)
    }

    public override var summary: String { "LayerNorm(\(dimension), eps: \(eps))" }
}
