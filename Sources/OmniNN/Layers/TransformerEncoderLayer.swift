import OmniTensor

/// How a Transformer block places its normalisation.
public enum NormPlacement: String, Sendable, Codable {
    /// `x + f(norm(x))` (GPT-2, ViT, Llama): stable for deep stacks.
    case pre
    /// `norm(x + f(x))` (the original Transformer, BERT).
    case post
}

/// Which normalisation a block uses.
public enum NormKind: String, Sendable, Codable {
    case layer, rms

    func make(_ dimension: Int, eps: Float) -> UnaryModule {
        switch self {
        case .layer: return LayerNorm(dimension, eps: eps)
        case .rms: return RMSNorm(dimension, eps: eps)
        }
    }
}

/// A Transformer encoder block: self-attention and a feed-forward MLP, each with a residual
/// connection, pre- or post-norm. Keys: `self_attn`, `norm1`, `mlp`, `norm2`.
///
/// With `isCausal` (and optionally a window and rotary positions) the same block serves as a
/// decoder-only (GPT-style) layer, and accepts a ``KVCache``.
public final class TransformerEncoderLayer: Module, @unchecked Sendable {
    @ModuleInfo(key: "self_attn") public var attention: MultiHeadAttention
    @ModuleInfo(key: "norm1") public var norm1: UnaryModule
    @ModuleInfo(key: "mlp") public var mlp: MLP
    @ModuleInfo(key: "norm2") public var norm2: UnaryModule
    @ModuleInfo(key: "dropout") var residualDropout: Dropout
    public let placement: NormPlacement

    public init(dimension: Int, heads: Int, mlpHiddenSize: Int, activation: Activation = .gelu,
                placement: NormPlacement = .pre, norm: NormKind = .layer, eps: Float = 1e-5,
                rotary: RotaryEmbedding? = nil, isCausal: Bool = false, window: Int? = nil,
                dropout: Float = 0, bias: Bool = true, generator: Generator) {
        self.placement = placement
        super.init()
        attention = MultiHeadAttention(dimension: dimension, heads: heads, bias: bias, rotary: rotary,
                                       isCausal: isCausal, window: window, dropout: dropout, generator: generator)
        norm1 = norm.make(dimension, eps: eps)
        mlp = MLP(inputSize: dimension, hiddenSize: mlpHiddenSize, activation: activation, bias: bias, generator: generator)
        norm2 = norm.make(dimension, eps: eps)
        residualDropout = Dropout(dropout, generator: generator)
    }

    /// [B, T, D] → [B, T, D] (weights of the self-attention when asked).
    public func callAsFunction(_ x: Tensor, keyPadding: Tensor? = nil, mask: Tensor? = nil, cache: KVCache? = nil,
                               returnWeights: Bool = false) -> AttentionResult {
        switch placement {
        case .pre:
            let a = attention(norm1(x), keyPadding: keyPadding, mask: mask, cache: cache, returnWeights: returnWeights)
            let h = x + residualDropout(a.output)
            return AttentionResult(output: h + residualDropout(mlp(norm2(h))), weights: a.weights)
        case .post:
            let a = attention(x, keyPadding: keyPadding, mask: mask, cache: cache, returnWeights: returnWeights)
            let h = norm1(x + residualDropout(a.output))
            return AttentionResult(output: norm2(h + residualDropout(mlp(h))), weights: a.weights)
        }
    }

    public override var summary: String { "TransformerEncoderLayer(\(placement.rawValue)-norm)" }
}
