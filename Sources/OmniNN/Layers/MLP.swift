import OmniTensor

/// The Transformer feed-forward block: `fc2(act(fc1(x)))` (keys `fc1`, `fc2`), or the gated
/// form `down(act(gate(x)) * up(x))` (keys `gate_proj`, `up_proj`, `down_proj`, as in Llama)
/// when `gated` is true.
public final class MLP: UnaryModule, @unchecked Sendable {
    @ModuleInfo(key: "fc1") var fc1: Linear?
    @ModuleInfo(key: "fc2") var fc2: Linear?
    @ModuleInfo(key: "gate_proj") var gate: Linear?
    @ModuleInfo(key: "up_proj") var up: Linear?
    @ModuleInfo(key: "down_proj") var down: Linear?
    public let activation: Activation
    public let gated: Bool

    public init(inputSize: Int, hiddenSize: Int, outputSize: Int? = nil, activation: Activation = .gelu,
                gated: Bool = false, bias: Bool = true, generator: Generator) {
        self.activation = activation
        self.gated = gated
        super.init()
        let out = outputSize ?? inputSize
        if gated {
            gate = Linear(inputSize, hiddenSize, bias: bias, generator: generator)
            up = Linear(inputSize, hiddenSize, bias: bias, generator: generator)
            down = Linear(hiddenSize, out, bias: bias, generator: generator)
            fc1 = nil; fc2 = nil
        } else {
            fc1 = Linear(inputSize, hiddenSize, bias: bias, generator: generator)
            fc2 = Linear(hiddenSize, out, bias: bias, generator: generator)
            gate = nil; up = nil; down = nil
        }
    }

    /// [..., in] → [..., out]
    public override func callAsFunction(_ x: Tensor) -> Tensor {
        if gated { return down!(activation(gate!(x)) * up!(x)) }
        return fc2!(activation(fc1!(x)))
    }

    public override var summary: String { gated ? "GatedMLP(\(activation.rawValue))" : "MLP(\(activation.rawValue))" }
}
