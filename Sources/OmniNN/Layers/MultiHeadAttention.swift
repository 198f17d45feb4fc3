import OmniTensor

/// Multi-head attention (Vaswani et al. 2017): self-attention, or cross-attention when a context
/// is given; optional rotary positions, causal masking, a sliding window, a KV cache for
/// incremental decoding, and the attention weights on request.
///
/// Keys: `q_proj`, `k_proj`, `v_proj`, `out_proj` (each a ``Linear``).
///
/// ```swift
/// let attn = MultiHeadAttention(dimension: 256, heads: 4, rotary: RotaryEmbedding(dimension: 64),
///                               isCausal: true, generator: g)
/// let cache = KVCache()
/// for token in prompt { let y = attn(embed(token), cache: cache).output }   // [B, 1, 256] per step
/// ```
public final class MultiHeadAttention: Module, @unchecked Sendable {
    @ModuleInfo(key: "q_proj") public var queryProjection: Linear
    @ModuleInfo(key: "k_proj") public var keyProjection: Linear
    @ModuleInfo(key: "v_proj") public var valueProjection: Linear
    @ModuleInfo(key: "out_proj") public var outputProjection: Linear
    public let dimension: Int
    public let heads: Int
    public let rotary: RotaryEmbedding?
    public let isCausal: Bool
    public let window: Int?
    public let dropout: Float
    let generator: Generator

    /// - Parameters:
    ///   - contextDimension: feature size of the keys/values' source for cross-attention
    ///     (defaults to `dimension`).
    ///   - rotary: rotary embedding of the per-head dimension, applied to queries and keys
    ///     (self-attention only).
    ///   - window: sliding-window size (implies causal masking).
    public init(dimension: Int, heads: Int, contextDimension: Int? = nil, bias: Bool = true,
                rotary: RotaryEmbedding? = nil, isCausal: Bool = false, window: Int? = nil,
                dropout: Float = 0, generator: Generator) {
        precondition(heads > 0 && dimension % heads == 0, "MultiHeadAttention: dimension \(dimension) is not divisible by \(heads) heads")
        if let rotary { precondition(rotary.dimension == dimension / heads, "MultiHeadAttention: rotary dimension \(rotary.dimension) must equal the head size \(dimension / heads)") }
        self.dimension = dimension
        self.heads = heads
        self.rotary = rotary
        self.isCausal = isCausal
        self.window = window
        self.dropout = dropout
        self.generator = generator
        super.init()
        let kv = contextDimension ?? dimension
        queryProjection = Linear(dimension, dimension, bias: bias, generator: generator)
        keyProjection = Linear(kv, dimension, bias: bias, generator: generator)
        valueProjection = Linear(kv, dimension, bias: bias, generator: generator)
        outputProjection = Linear(dimension, dimension, bias: bias, generator: generator)
    }

    /// [B, T, D] → [B, H, T, Dh]
    func splitHeads(_ x: Tensor) -> Tensor {
        x.reshaped([x.shape[0], x.shape[1], heads, dimension / heads]).transposed(1, 2)
    }

    /// - Parameters:
    ///   - x: queries' source [B, Tq, D].
    ///   - context: keys/values' source [B, Tk, Dc] for cross-attention (nil: self-attention).
    ///   - keyPadding: bool [B, Tk], true for real keys (for self-attention with a cache: all
    ///     cached + new keys).
    ///   - mask: bool or additive float mask broadcastable to [B, H, Tq, Tk].
    ///   - cache: keys/values of earlier steps; updated in place.
    /// - Returns: output [B, Tq, D] and, when asked, weights [B, H, Tq, Tk].
    public func callAsFunction(_ x: Tensor, context: Tensor? = nil, keyPadding: Tensor? = nil, mask: Tensor? = nil,
                               cache: KVCache? = nil, returnWeights: Bool = false) -> AttentionResult {
        precondition(x.rank == 3 && x.shape[2] == dimension, "MultiHeadAttention: input \(x.shape) must be [B, T, \(dimension)]")
        let offset = context == nil ? (cache?.length ?? 0) : 0
        var q = splitHeads(queryProjection(x))                         // [B, H, Tq, Dh]
        var k: Tensor, v: Tensor
        if let context {
            if let cache, cache.isStatic, let ck = cache.keys, let cv = cache.values {
                (k, v) = (ck, cv)
            } else {
                k = splitHeads(keyProjection(context))                 // [B, H, Tk, Dh]
                v = splitHeads(valueProjection(context))
                cache?.store(keys: k, values: v)
            }
        } else {
            k = splitHeads(keyProjection(x))
            v = splitHeads(valueProjection(x))
            if let rotary {
                q = rotary(q, offset: offset)
                k = rotary(k, offset: offset)
            }
            if let cache { (k, v) = cache.append(keys: k, values: v) }
        }
        let r = Tensor.scaledDotProductAttention(
            query: q, key: k, value: v, keyPadding: keyPadding, mask: mask,
            isCausal: context == nil && isCausal, window: context == nil ? window : nil,
            dropout: isTraining ? dropout : 0, generator: generator, returnWeights: returnWeights)
        let merged = r.output.transposed(1, 2).reshaped([x.shape[0], x.shape[1], dimension])   // [B, Tq, D]
        return AttentionResult(output: outputProjection(merged), weights: r.weights)
    }

    public override var summary: String {
        "MultiHeadAttention(\(dimension), heads: \(heads)\(isCausal ? ", causal" : "")\(window.map { ", window: \($0)" } ?? "")\(rotary != nil ? ", rotary" : ""))"
    }
}
