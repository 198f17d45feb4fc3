import OmniTensor

/// A lookup table of `count` vectors of size `dimension` (key `weight` [count, dimension]),
/// initialised N(0, 1) like PyTorch.
public final class Embedding: Module, @unchecked Sendable {
    @ParameterInfo(key: "weight") public var weight: Tensor

    public init(_ count: Int, _ dimension: Int, generator: Generator) {
        super.init()
        self.weight = Tensor.normal([count, dimension], generator: generator)
    }

    /// Integer ids [...] → vectors [..., dimension].
    public func callAsFunction(_ ids: Tensor) -> Tensor { weight.embedding(ids) }

    public override var summary: String { "Embedding(\(weight.shape[0]), \(weight.shape[1]))" }
}
