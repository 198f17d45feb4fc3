import OmniTensor

/// 2-D convolution over [N, C, H, W] (keys `weight` [O, C/groups, KH, KW], `bias` [O]), as
/// `nn.Conv2d`, with PyTorch's default initialisation (uniform ±1/√(C/groups·KH·KW)).
public final class Conv2d: UnaryModule, @unchecked Sendable {
    @ParameterInfo(key: "weight") public var weight: Tensor
    @ParameterInfo(key: "bias") public var bias: Tensor?
    public let stride: IntOrPair, padding: IntOrPair, dilation: IntOrPair, groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: IntOrPair, stride: IntOrPair = 1, padding: IntOrPair = 0,
                dilation: IntOrPair = 1, groups: Int = 1, bias: Bool = true, generator: Generator) {
        precondition(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: channels \(inChannels) → \(outChannels) are not divisible by groups \(groups)")
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        super.init()
        let fanIn = inChannels / groups * kernel.height * kernel.width
        let bound = 1 / Float(fanIn).squareRoot()
        self.weight = Tensor.uniform([outChannels, inChannels / groups, kernel.height, kernel.width], low: -bound, high: bound, generator: generator)
        self.bias = bias ? Tensor.uniform([outChannels], low: -bound, high: bound, generator: generator) : nil
    }

    /// [N, C, H, W] → [N, O, H', W']
    public override func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    public override var summary: String { "Conv2d(\(weight.shape[1] * groups) → \(weight.shape[0]), kernel \(weight.shape[2])×\(weight.shape[3]))" }
}

/// 1-D convolution over [N, C, L] (keys `weight` [O, C/groups, K], `bias` [O]), as `nn.Conv1d`.
public final class Conv1d: UnaryModule, @unchecked Sendable {
    @ParameterInfo(key: "weight") public var weight: Tensor
    @ParameterInfo(key: "bias") public var bias: Tensor?
    public let stride: Int, padding: Int, dilation: Int, groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, generator: Generator) {
        precondition(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv1d: channels \(inChannels) → \(outChannels) are not divisible by groups \(groups)")
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        super.init()
        let bound = 1 / Float(inChannels / groups * kernel).squareRoot()
        self.weight = Tensor.uniform([outChannels, inChannels / groups, kernel], low: -bound, high: bound, generator: generator)
        self.bias = bias ? Tensor.uniform([outChannels], low: -bound, high: bound, generator: generator) : nil
    }

    /// [N, C, L] → [N, O, L']
    public override func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv1d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    public override var summary: String { "Conv1d(\(weight.shape[1] * groups) → \(weight.shape[0]), kernel \(weight.shape[2]))" }
}
