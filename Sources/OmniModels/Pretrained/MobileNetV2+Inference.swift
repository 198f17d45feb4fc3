// Inference form of MobileNetV2: every BatchNorm folded into the convolution before it.
//
// In eval mode BN is the affine map y = (x − μ)·γ/√(σ² + ε) + β per channel, so after a bias-free
// convolution it can be absorbed: w' = w·s, b' = β − μ·s with s = γ/√(σ² + ε). The folded network
// runs one convolution (with bias) per layer instead of a convolution and four elementwise passes.
// It is a snapshot: fold again after changing the model's weights.
import OmniNN
import OmniTensor

/// A ``MobileNetV2`` with its BatchNorms folded into its convolutions, for inference only (no
/// dropout, no gradients, running statistics baked in). Same inputs and outputs as the model.
///
/// ```swift
/// let fast = try MobileNetV2.pretrained(contentsOf: url).folded()
/// let logits = fast(x)                  // [B, 3, 224, 224] -> [B, 1000]
/// let grid = fast.featureMap(x)         // [B, 1280, 7, 7]
/// ```
public struct FoldedMobileNetV2: Sendable {
    /// One convolution with its folded bias and whether ReLU6 follows.
    public struct Convolution: Sendable {
        public let weight: Tensor   // [O, C/groups, K, K]
        public let bias: Tensor     // [O]
        public let stride: Int
        public let padding: Int
        public let groups: Int
        public let clampsToSix: Bool

        /// [B, C, H, W] → [B, O, H / stride, W / stride], plus `residual` when given.
        func callAsFunction(_ x: Tensor, adding residual: Tensor? = nil) -> Tensor {
            var y = x.conv2d(weight: weight, bias: bias, stride: IntOrPair(stride), padding: IntOrPair(padding),
                             groups: groups)
            if clampsToSix { y = relu6(y) }
            if let residual { y = y + residual }
            return y
        }
    }

    /// A stem/last conv (one layer) or an inverted residual block (two or three layers).
    public struct Block: Sendable {
        public let layers: [Convolution]
        public let isResidual: Bool

        func callAsFunction(_ x: Tensor) -> Tensor {
            var h = x
            for (i, layer) in layers.enumerated() {
                h = layer(h, adding: isResidual && i == layers.count - 1 ? x : nil)
            }
            return h
        }
    }

    public let blocks: [Block]
    public let classifierWeight: Tensor  // [classes, 1280]
    public let classifierBias: Tensor    // [classes]

    /// [B, 3, H, W] → [B, lastChannels, ⌈H/32⌉, ⌈W/32⌉], as ``MobileNetV2/featureMap(_:)``.
    public func featureMap(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == 3, "FoldedMobileNetV2: input must be [B, 3, H, W], got \(x.shape)")
        return GradMode.withoutGrad { blocks.reduce(x) { h, block in block(h) } }
    }

    /// Logits: [B, 3, H, W] → [B, classCount].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let pooled = featureMap(x).adaptiveAvgPool2d(outputSize: 1).flattened(from: 1)  // [B, 1280]
        return GradMode.withoutGrad { pooled.linear(weight: classifierWeight, bias: classifierBias) }
    }
}

extension MobileNetV2 {
    /// The model with BatchNorm folded into the convolutions (see ``FoldedMobileNetV2``): a
    /// snapshot of the current weights and running statistics.
    public func folded() -> FoldedMobileNetV2 {
        GradMode.withoutGrad {
            let blocks = features.map { layer -> FoldedMobileNetV2.Block in
                switch layer {
                case let c as ConvNormActivation:
                    return .init(layers: [MobileNetV2.fold(c.conv, c.norm, clampsToSix: c.activates)], isResidual: false)
                case let b as InvertedResidual:
                    var layers = b.expansion.map { [MobileNetV2.fold($0.conv, $0.norm, clampsToSix: $0.activates)] } ?? []
                    layers.append(MobileNetV2.fold(b.depthwise.conv, b.depthwise.norm, clampsToSix: b.depthwise.activates))
                    layers.append(MobileNetV2.fold(b.projection, b.projectionNorm, clampsToSix: false))
                    return .init(layers: layers, isResidual: b.isResidual)
                default:
                    preconditionFailure("MobileNetV2.folded: unexpected layer \(type(of: layer)) in features")
                }
            }
            return FoldedMobileNetV2(blocks: blocks, classifierWeight: head.weight.detached(),
                                     classifierBias: head.bias?.detached() ?? Tensor.zeros([configuration.classCount]))
        }
    }

    /// w' = w·s, b' = β − μ·s (+ the conv's own bias·s), s = γ / √(σ² + ε), per output channel.
    static func fold(_ conv: Conv2d, _ norm: BatchNorm, clampsToSix: Bool) -> FoldedMobileNetV2.Convolution {
        precondition(conv.stride.height == conv.stride.width && conv.padding.height == conv.padding.width
                     && conv.dilation == IntOrPair(1),
                     "MobileNetV2.fold: only square strides and paddings without dilation are folded")
        let o = conv.weight.shape[0]
        let gamma = norm.weight ?? Tensor.ones([o]), beta = norm.bias ?? Tensor.zeros([o])
        let scale = (norm.runningVariance + norm.eps).rsqrt() * gamma  // [O]
        var bias = beta - norm.runningMean * scale
        if let b = conv.bias { bias = bias + b * scale }
        let weight = (conv.weight * scale.reshaped([o, 1, 1, 1])).contiguous()  // [O, C/g, K, K]
        return .init(weight: weight.detached(), bias: bias.detached(), stride: conv.stride.height,
                     padding: conv.padding.height, groups: conv.groups,
                     clampsToSix: clampsToSix)
    }
}
