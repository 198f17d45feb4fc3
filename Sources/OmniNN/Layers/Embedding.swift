import OmniTensor

/// A lookup table of `count` vectors of size `dimension` (key `weight` [count, dimension]),
/// initialised N(0, 1) like PyTorch.
public final class Embedding: Module, @unchecked Sendable {
    @ParameterInfo(key: "weight") public var weight: Tensor

    public init(_ count: Int, _ dimension: Int, generator: Generator) {
        super.init()
        self.weight = Tensor.normal([count, dimension], generator: generator)
    }

    /// A table with the given values [count, dimension] (e.g. zeros to be replaced by a checkpoint,
    /// which skips drawing a large random table).
    public init(weight: Tensor) {
        precondition(weight.rank == 2, "Embedding: weight must be [count, dimension], got \(weight.shape)")
        super.init()
        self.weight = weight
    }

    /// Integer ids [...] → vectors [..., dimension].
    public func callAsFunction(_ ids: Tensor) -> Tensor { weight.embedding(ids) }

    public override var summary: String { "Embedding(\(weight.shape[0]), \(weight.shape[1]))" }
}
