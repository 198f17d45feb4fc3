// MobileNetV2 — "MobileNetV2: Inverted Residuals and Linear Bottlenecks" (Sandler et al., 2018),
// as torchvision's `torchvision.models.mobilenet_v2` builds it, so that its ImageNet checkpoint
// `mobilenet_v2-b0353104.pth` (torchvision's `MobileNet_V2_Weights.IMAGENET1K_V1`, 71.9 % top-1)
// loads strictly with the checkpoint's own keys:
//
//   features.0                Conv2dNormActivation: 3×3 conv stride 2 (3 → 32), BN, ReLU6
//   features.1 … features.17  InvertedResidual blocks (t, c, n, s table below)
//   features.18               Conv2dNormActivation: 1×1 conv (320 → 1280), BN, ReLU6
//   classifier                Dropout(0.2), Linear(1280 → 1000)
//
// torchvision's `nn.Sequential` indices become the keys: a Conv2dNormActivation holds its conv
// under `0` and its BatchNorm under `1` (the ReLU6 at `2` has no parameters), an InvertedResidual
// holds its layers under `conv.0`, `conv.1`, …, so `features.18.1.running_var` and
// `features.2.conv.1.0.weight` are the checkpoint's names, not a mapping of them.
//
// BatchNorm runs in eval mode with the running statistics once `eval()` is called (``load``
// helpers do it). For fast inference ``MobileNetV2/folded()`` folds every BatchNorm into the
// convolution before it (see MobileNetV2+Inference.swift); this file stays the trainable model.
import Foundation
import OmniNN
import OmniTensor

/// The hyper-parameters of a ``MobileNetV2`` (torchvision's `MobileNetV2(...)` arguments).
///
/// ```swift
/// let config = MobileNetV2Configuration(widthMultiplier: 0.5, classCount: 10)
/// let model = MobileNetV2(config, generator: Generator(seed: 0))
/// ```
public struct MobileNetV2Configuration: Codable, Sendable, Equatable {
    /// One stage of inverted residual blocks: expansion factor `t`, output channels `c` (before
    /// the width multiplier), number of blocks `n`, stride `s` of the first block.
    public struct Stage: Codable, Sendable, Equatable {
        public var expansion: Int
        public var channels: Int
        public var blocks: Int
        public var stride: Int

        public init(expansion: Int, channels: Int, blocks: Int, stride: Int) {
            self.expansion = expansion
            self.channels = channels
            self.blocks = blocks
            self.stride = stride
        }
    }

    /// Scales every layer's channel count (rounded to a multiple of `roundNearest`).
    public var widthMultiplier: Double
    /// Size of the classifier's output.
    public var classCount: Int
    /// Dropout probability before the classifier (training only).
    public var dropout: Float
    /// Channel counts are rounded to multiples of this.
    public var roundNearest: Int
    /// BatchNorm's epsilon.
    public var batchNormEpsilon: Float
    /// The inverted residual stages (the paper's Table 2).
    public var stages: [Stage]

    /// The stages of the paper and of torchvision's default.
    public static let imageNetStages: [Stage] = [
        Stage(expansion: 1, channels: 16, blocks: 1, stride: 1),
        Stage(expansion: 6, channels: 24, blocks: 2, stride: 2),
        Stage(expansion: 6, channels: 32, blocks: 3, stride: 2),
        Stage(expansion: 6, channels: 64, blocks: 4, stride: 2),
        Stage(expansion: 6, channels: 96, blocks: 3, stride: 1),
        Stage(expansion: 6, channels: 160, blocks: 3, stride: 2),
        Stage(expansion: 6, channels: 320, blocks: 1, stride: 1),
    ]

    public init(widthMultiplier: Double = 1.0, classCount: Int = 1000, dropout: Float = 0.2, roundNearest: Int = 8,
                batchNormEpsilon: Float = 1e-5, stages: [Stage] = MobileNetV2Configuration.imageNetStages) {
        self.widthMultiplier = widthMultiplier
        self.classCount = classCount
        self.dropout = dropout
        self.roundNearest = roundNearest
        self.batchNormEpsilon = batchNormEpsilon
        self.stages = stages
    }

    /// torchvision's `_make_divisible`: the nearest multiple of `roundNearest` (at least
    /// `roundNearest`), bumped up one step when rounding down lost more than 10 %.
    public func divisible(_ value: Double) -> Int {
        let d = roundNearest
        var rounded = Swift.max(d, Int(value + Double(d) / 2) / d * d)
        if Double(rounded) < 0.9 * value { rounded += d }
        return rounded
    }

    /// Channels of the stem convolution (32 at width 1).
    public var stemChannels: Int { divisible(32 * widthMultiplier) }
    /// Channels of the last feature map (1280 at width ≤ 1; never scaled below 1280).
    public var lastChannels: Int { divisible(1280 * Swift.max(1.0, widthMultiplier)) }
}

/// ReLU6, `min(max(x, 0), 6)`: MobileNet's activation, kept bounded for low-precision inference.
@inline(__always) func relu6(_ x: Tensor) -> Tensor { x.clamped(min: 0, max: 6) }

/// The MobileNetV2 image classifier (torchvision's `mobilenet_v2`).
///
/// Input `[B, 3, H, W]` normalised with ImageNet's mean and std (see `Image.classificationTensor()`),
/// output logits `[B, classCount]`. ``featureMap(_:)`` gives the trunk's `[B, 1280, H/32, W/32]`
/// grid (7 × 7 at 224 px) for use as a backbone.
///
/// ```swift
/// let model = try MobileNetV2.pretrained(contentsOf: Assets.file("mobilenet_v2/mobilenet_v2-b0353104.pth"))
/// let logits = GradMode.withoutGrad { model(x) }    // x: [1, 3, 224, 224] -> [1, 1000]
/// ```
public final class MobileNetV2: Module, @unchecked Sendable {
    /// Conv (no bias) → BatchNorm → optional ReLU6: torchvision's `Conv2dNormActivation`, whose
    /// Sequential indices give the keys `0` (conv) and `1` (norm).
    public final class ConvNormActivation: UnaryModule, @unchecked Sendable {
        @ModuleInfo(key: "0") public var conv: Conv2d
        @ModuleInfo(key: "1") public var norm: BatchNorm
        /// Whether ReLU6 follows the norm (always, in MobileNetV2's Conv2dNormActivation).
        public let activates: Bool

        public init(_ inChannels: Int, _ outChannels: Int, kernel: Int = 3, stride: Int = 1, groups: Int = 1,
                    activates: Bool = true, epsilon: Float, generator: Generator) {
            self.activates = activates
            super.init()
            conv = MobileNetV2.convolution(inChannels, outChannels, kernel: kernel, stride: stride, groups: groups,
                                           generator: generator)
            norm = BatchNorm(outChannels, eps: epsilon)
        }

        /// [B, C, H, W] → [B, O, H / stride, W / stride]
        public override func callAsFunction(_ x: Tensor) -> Tensor {
            let y = norm(conv(x))
            return activates ? relu6(y) : y
        }
    }

    /// Inverted residual block: 1×1 expansion to `t·C` channels (absent when t = 1), 3×3
    /// depthwise conv carrying the stride, 1×1 linear projection (no activation), and a skip
    /// connection when the shape is kept. Keys: `conv.0` … `conv.3` (`conv.0` … `conv.2` when t = 1).
    public final class InvertedResidual: UnaryModule, @unchecked Sendable {
        @ModuleInfo(key: "conv") public var layers: [UnaryModule]
        /// The pointwise expansion (nil when the expansion factor is 1).
        public let expansion: ConvNormActivation?
        /// The depthwise 3×3 convolution.
        public let depthwise: ConvNormActivation
        /// The pointwise linear projection and its norm.
        public let projection: Conv2d
        public let projectionNorm: BatchNorm
        /// Whether the input is added to the output (stride 1 and as many channels out as in).
        public let isResidual: Bool

        public init(_ inChannels: Int, _ outChannels: Int, stride: Int, expansionFactor: Int, epsilon: Float,
                    generator: Generator) {
            precondition(stride == 1 || stride == 2, "InvertedResidual: stride must be 1 or 2, got \(stride)")
            let hidden = inChannels * expansionFactor
            expansion = expansionFactor == 1 ? nil
                : ConvNormActivation(inChannels, hidden, kernel: 1, epsilon: epsilon, generator: generator)
            depthwise = ConvNormActivation(hidden, hidden, kernel: 3, stride: stride, groups: hidden, epsilon: epsilon,
                                           generator: generator)
            projection = MobileNetV2.convolution(hidden, outChannels, kernel: 1, generator: generator)
            projectionNorm = BatchNorm(outChannels, eps: epsilon)
            isResidual = stride == 1 && inChannels == outChannels
            super.init()
            layers = (expansion.map { [$0] } ?? []) + [depthwise, projection, projectionNorm]
        }

        /// [B, C, H, W] → [B, O, H / stride, W / stride]
        public override func callAsFunction(_ x: Tensor) -> Tensor {
            var h = x
            if let expansion { h = expansion(h) }  // [B, tC, H, W]
            h = depthwise(h)                        // [B, tC, H/s, W/s]
            h = projectionNorm(projection(h))       // [B, O, H/s, W/s]
            return isResidual ? x + h : h
        }
    }

    public let configuration: MobileNetV2Configuration
    /// The trunk: stem, 17 inverted residual blocks, last 1×1 conv (`features.0` … `features.18`).
    @ModuleInfo(key: "features") public var features: [UnaryModule]
    /// `classifier.0` is Dropout (no parameters), `classifier.1` the Linear layer.
    @ModuleInfo(key: "classifier") public var classifier: [UnaryModule]

    /// A freshly initialised model, initialised as torchvision does: convolutions Kaiming-normal
    /// (fan out), BatchNorm weight 1 and bias 0, the classifier N(0, 0.01) with zero bias.
    public init(_ configuration: MobileNetV2Configuration = MobileNetV2Configuration(), generator: Generator) {
        precondition(configuration.classCount > 0, "MobileNetV2: classCount must be positive, got \(configuration.classCount)")
        precondition(configuration.widthMultiplier > 0, "MobileNetV2: widthMultiplier must be positive, got \(configuration.widthMultiplier)")
        self.configuration = configuration
        super.init()
        let eps = configuration.batchNormEpsilon
        var channels = configuration.stemChannels
        var trunk: [UnaryModule] = [ConvNormActivation(3, channels, kernel: 3, stride: 2, epsilon: eps, generator: generator)]
        for stage in configuration.stages {
            let out = configuration.divisible(Double(stage.channels) * configuration.widthMultiplier)
            for i in 0..<stage.blocks {
                trunk.append(InvertedResidual(channels, out, stride: i == 0 ? stage.stride : 1,
                                              expansionFactor: stage.expansion, epsilon: eps, generator: generator))
                channels = out
            }
        }
        trunk.append(ConvNormActivation(channels, configuration.lastChannels, kernel: 1, epsilon: eps, generator: generator))
        features = trunk
        let head = Linear(configuration.lastChannels, configuration.classCount, generator: generator)
        head.weight = Tensor.normal(head.weight.shape, std: 0.01, generator: generator)
        head.bias = Tensor.zeros([configuration.classCount])
        classifier = [Dropout(configuration.dropout, generator: generator), head]
    }

    /// A bias-free convolution with "same" padding for odd kernels, Kaiming-normal in fan-out mode.
    static func convolution(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, groups: Int = 1,
                            generator: Generator) -> Conv2d {
        let conv = Conv2d(inChannels, outChannels, kernel: IntOrPair(kernel), stride: IntOrPair(stride),
                          padding: IntOrPair((kernel - 1) / 2), groups: groups, bias: false, generator: generator)
        let fanOut = Float(outChannels * kernel * kernel)
        conv.weight = Tensor.normal(conv.weight.shape, std: (2 / fanOut).squareRoot(), generator: generator)
        return conv
    }

    /// The classifier's Linear layer (`classifier.1`).
    public var head: Linear { classifier[1] as! Linear }

    /// The trunk's feature grid: [B, 3, H, W] → [B, lastChannels, ⌈H/32⌉, ⌈W/32⌉] ([B, 1280, 7, 7]
    /// at 224 px), after the last ReLU6 — the token grid for a backbone.
    public func featureMap(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == 3,
                     "MobileNetV2: input must be [B, 3, H, W], got \(x.shape)")
        return features.reduce(x) { h, layer in layer(h) }
    }

    /// Global average pool of the feature map: [B, 3, H, W] → [B, lastChannels].
    public func pooledFeatures(_ x: Tensor) -> Tensor {
        featureMap(x).adaptiveAvgPool2d(outputSize: 1).flattened(from: 1)  // [B, 1280]
    }

    /// Logits: [B, 3, H, W] → [B, classCount].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        classifier.reduce(pooledFeatures(x)) { h, layer in layer(h) }
    }

    /// The model with the weights of a torchvision checkpoint (`.pth`, zip or legacy format, or
    /// any file ``TensorFile`` reads), loaded strictly, in evaluation mode.
    ///
    /// - Throws: ``LoadError`` listing every missing, unused and mis-shaped key when the file does
    ///   not fit `configuration`; a reader error when it is not a tensor file.
    public static func pretrained(contentsOf url: URL,
                                  configuration: MobileNetV2Configuration = MobileNetV2Configuration()) throws -> MobileNetV2 {
        let model = MobileNetV2(configuration, generator: Generator(seed: 0))
        try model.loadCheckpoint(contentsOf: url)
        return model
    }

    /// Loads a torchvision state dict strictly (see ``Module/load(_:strict:file:)``) and switches
    /// to evaluation mode.
    public func loadCheckpoint(contentsOf url: URL) throws {
        let contents = try TensorFile.read(contentsOf: url.path)
        let weights = Dictionary(contents.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        try load(weights, file: url.path)
        eval()
    }

    public override var summary: String {
        "MobileNetV2(width \(configuration.widthMultiplier), \(configuration.classCount) classes)"
    }
}
