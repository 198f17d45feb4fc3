import OmniTensor

/// A Transformer decoder block: causal self-attention, cross-attention to an encoded context,
/// and an MLP, each with a residual connection, pre- or post-norm.
/// Keys: `self_attn`, `norm1`, `cross_attn`, `norm2`, `mlp`, `norm3`.
public final class TransformerDecoderLayer: Module, @unchecked Sendable {
    @ModuleInfo(key: "self_attn") public var selfAttention: MultiHeadAttention
    @ModuleInfo(key: "norm1") public var norm1: UnaryModule
    @ModuleInfo(key: "cross_attn") public var crossAttention: MultiHeadAttention
    @ModuleInfo(key: "norm2") public var norm2: UnaryModule
    @ModuleInfo(key: "mlp") public var mlp: MLP
    @ModuleInfo(key: "norm3") public var norm3: UnaryModule
    @ModuleInfo(key: "dropout") var residualDropout: Dropout
    public let placement: NormPlacement

    public init(dimension: Int, heads: Int, mlpHiddenSize: Int, contextDimension: Int? = nil, activation: Activation = .gelu,
                placement: NormPlacement = .pre, norm: NormKind = .layer, eps: Float = 1e-5,
                rotary: RotaryEmbedding? = nil, window: Int? = nil, dropout: Float = 0, bias: Bool = true,
                generator: Generator) {
        self.placement = placement
        super.init()
        selfAttention = MultiHeadAttention(dimension: dimension, heads: heads, bias: bias, rotary: rotary, isCausal: true,
                                           window: window, dropout: dropout, generator: generator)
        norm1 = norm.make(dimension, eps: eps)
        crossAttention = MultiHeadAttention(dimension: dimension, heads: heads, contextDimension: contextDimension, bias: bias,
                                            dropout: dropout, generator: generator)
        norm2 = norm.make(dimension, eps: eps)
        mlp = MLP(inputSize: dimension, hiddenSize: mlpHiddenSize, activation: activation, bias: bias, generator: generator)
        norm3 = norm.make(dimension, eps: eps)
        residualDropout = Dropout(dropout, generator: generator)
    }

    /// Caches for incremental decoding with one decoder layer.
    public struct Caches: Sendable {
        public let selfAttention = KVCache()
        public let crossAttention = KVCache()
        public init() {}
    }

    /// - Parameters:
    ///   - x: [B, T, D] target tokens (new ones only when decoding with caches).
    ///   - context: [B, S, Dc] encoded source; `contextPadding` bool [B, S] marks real positions.
    /// - Returns: [B, T, D] and, when asked, the cross-attention weights [B, H, T, S].
    public func callAsFunction(_ x: Tensor, context: Tensor, contextPadding: Tensor? = nil, caches: Caches? = nil,
                               returnWeights: Bool = false) -> AttentionResult {
        switch placement {
        case .pre:
            var h = x + residualDropout(selfAttention(norm1(x), cache: caches?.selfAttention).output)
            let c = crossAttention(norm2(h), context: context, keyPadding: contextPadding, cache: caches?.crossAttention,
                                   returnWeights: returnWeights)
            h = h + residualDropout(c.output)
            return AttentionResult(output: h + residualDropout(mlp(norm3(h))), weights: c.weights)
        case .post:
            var h = norm1(x + residualDropout(selfAttention(x, cache: caches?.selfAttention).output))
            let c = crossAttention(h, context: context, keyPadding: contextPadding, cache: caches?.crossAttention,
                                   returnWeights: returnWeights)
            h = norm2(h + residualDropout(c.output))
            return AttentionResult(output: norm3(h + residualDropout(mlp(h))), weights: c.weights)
        }
    }

    public override var summary: String { "TransformerDecoderLayer(\(placement.rawValue)-norm)" }
}
