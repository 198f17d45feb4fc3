import OmniTensor

/// `y = x · Wᵀ + b` (PyTorch's `nn.Linear`; keys `weight` [out, in], `bias` [out]).
///
/// Initialised like PyTorch: weight and bias uniform in ±1/√in.
public final class Linear: UnaryModule, @unchecked Sendable {
    @ParameterInfo(key: "weight") public var weight: Tensor
    @ParameterInfo(key: "bias") public var bias: Tensor?

    public let inputSize: Int
    public let outputSize: Int

    public init(_ inputSize: Int, _ outputSize: Int, bias: Bool = true, generator: Generator) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        super.init()
        let bound = 1 / Float(inputSize).squareRoot()
        self.weight = Tensor.uniform([outputSize, inputSize], low: -bound, high: bound, generator: generator)
        self.bias = bias ? Tensor.uniform([outputSize], low: -bound, high: bound, generator: generator) : nil
    }

    /// A layer with the given weight [out, in] and bias [out] (a custom initialisation, or
    /// placeholders a checkpoint replaces).
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "Linear: weight must be [out, in], got \(weight.shape)")
        if let bias { precondition(bias.shape == [weight.shape[0]], "Linear: bias \(bias.shape) does not match weight \(weight.shape)") }
        inputSize = weight.shape[1]
        outputSize = weight.shape[0]
        super.init()
        self.weight = weight
        self.bias = bias
    }

    /// [..., in] → [..., out]
    public override func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight: weight, bias: bias) }

    public override var summary: String { "Linear(\(inputSize) → \(outputSize)\(bias == nil ? ", no bias" : ""))" }
}
