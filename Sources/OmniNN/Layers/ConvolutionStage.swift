// A convolutional stage: Conv2d 3×3 (padding 1, any stride) → LayerNorm over channels → GELU
// (exact). Used by the signal encoder's 2-D stages and the Vision Transformer's convolutional
// stem (Xiao et al. 2021, "Early Convolutions Help Transformers See Better", with LayerNorm in
// place of BatchNorm so a sample's output never depends on the rest of its batch).
//
// Keys: `conv.{weight, bias}`, `layer_norm.{weight, bias}`.
import OmniTensor

/// Conv2d 3×3 (padding 1) → LayerNorm over the channels → GELU: [N, C, H, W] → [N, O, H', W'] with
/// H' = ⌊(H − 1)/s_h⌋ + 1 (⌈H/2⌉ for stride 2), W' likewise.
///
/// ```swift
/// let stage = ConvolutionStage(3, 32, stride: 2, generator: Generator(seed: 0))
/// stage(images)   // [B, 3, 64, 64] → [B, 32, 32, 32]
/// ```
public final class ConvolutionStage: UnaryModule, @unchecked Sendable {
    @ModuleInfo(key: "conv") public var conv: Conv2d
    @ModuleInfo(key: "layer_norm") public var layerNorm: LayerNorm
    public let stride: IntOrPair

    public init(_ inChannels: Int, _ outChannels: Int, stride: IntOrPair, generator: Generator) {
        self.stride = stride
        super.init()
        conv = Conv2d(inChannels, outChannels, kernel: 3, stride: stride, padding: 1, generator: generator)
        layerNorm = LayerNorm(outChannels)
    }

    /// [N, C, H, W] → [N, O, H', W']
    public override func callAsFunction(_ x: Tensor) -> Tensor {
        layerNorm(conv(x).permuted([0, 2, 3, 1])).permuted([0, 3, 1, 2]).gelu()
    }

    /// The output length of a side of `length` pixels for a stride `s`: ⌊(length − 1)/s⌋ + 1.
    public static func outputLength(_ length: Int, stride s: Int) -> Int { (length - 1) / s + 1 }

    public override var summary: String {
        "ConvolutionStage(\(conv.weight.shape[1]) → \(conv.weight.shape[0]), stride \(stride.height)×\(stride.width))"
    }
}
