// Text decoder head: writes text conditioned on the fused multimodal tokens — a Transformer decoder
// (Vaswani et al. 2017) with pre-norm blocks of causal self-attention, cross-attention to the fused
// tokens and an MLP, as in Whisper's text decoder or BLIP's captioner:
//
//   ids [B, T] ─ embed_tokens (+ embed_positions, or RoPE inside self-attention)
//     ─ L × [x + self_attn(norm1(x)) (causal), x + cross_attn(norm2(x), fused), x + mlp(norm3(x))]
//     ─ norm ─ lm_head (or the token table when tied)                        → logits [B, T, V]
//
// Incremental decoding keeps one pair of KV caches per layer (`makeCaches()`): self-attention
// appends each step's keys and values; cross-attention projects the fused tokens once, on the first
// call, and reuses them. A cached step's logits equal the full forward's at the same position.
// Generation (greedy, beam search, top-k / top-p sampling) lives in TextDecoder+Generation.swift.
//
// Keys: `embed_tokens`, `embed_positions` (learned positions), `layers.N.{self_attn, norm1,
// cross_attn, norm2, mlp, norm3}`, `norm`, `lm_head` (unless tied). Key projections have no bias.

import OmniNN
import OmniTensor

/// Hyper-parameters of a ``TextDecoder``.
///
/// ```swift
/// let config = TextDecoderConfig(vocabSize: 8192, dimension: 256, contextDimension: 256, layers: 4, heads: 4)
/// ```
public struct TextDecoderConfig: Codable, Sendable, Equatable {
    public enum Positions: String, Codable, Sendable {
        /// A learned table of `maxLength` positions (GPT-2, Whisper).
        case learned
        /// Rotary embeddings in the self-attention (no length limit of their own).
        case rotary
    }

    public var vocabSize: Int
    /// Width of the residual stream.
    public var dimension: Int
    /// Width of the fused tokens the decoder attends to.
    public var contextDimension: Int
    public var layers: Int
    /// Attention heads; must divide `dimension` (into an even head size for rotary positions).
    public var heads: Int
    /// MLP hidden size as a multiple of `dimension`.
    public var mlpRatio: Int
    /// Dropout on embeddings, attention weights and residual branches (training only).
    public var dropout: Float
    public var positions: Positions
    /// Longest sequence (prompt + generated) the decoder reads.
    public var maxLength: Int
    /// Whether the output head reuses the token table.
    public var tiedHead: Bool
    /// RoPE's base wavelength.
    public var ropeBase: Double

    public init(vocabSize: Int, dimension: Int, contextDimension: Int? = nil, layers: Int, heads: Int, mlpRatio: Int = 4,
                dropout: Float = 0, positions: Positions = .learned, maxLength: Int = 512, tiedHead: Bool = true,
                ropeBase: Double = 10_000) {
        self.vocabSize = vocabSize
        self.dimension = dimension
        self.contextDimension = contextDimension ?? dimension
        self.layers = layers
        self.heads = heads
        self.mlpRatio = mlpRatio
        self.dropout = dropout
        self.positions = positions
        self.maxLength = maxLength
        self.tiedHead = tiedHead
        self.ropeBase = ropeBase
    }

    /// Why these sizes cannot build a decoder, or nil.
    public var problem: String? {
        if vocabSize <= 0 || dimension <= 0 || contextDimension <= 0 || layers < 0 || mlpRatio <= 0 || maxLength <= 0 {
            return "vocabSize \(vocabSize), dimension \(dimension), contextDimension \(contextDimension), mlpRatio \(mlpRatio) and maxLength \(maxLength) must be positive and layers \(layers) not negative"
        }
        if heads <= 0 || dimension % heads != 0 { return "dimension \(dimension) is not divisible by \(heads) heads" }
        if positions == .rotary && (dimension / heads) % 2 != 0 { return "rotary positions need an even head size, got \(dimension / heads)" }
        if !(dropout >= 0 && dropout < 1) { return "dropout must be in [0, 1), got \(dropout)" }
        return nil
    }
}

/// A causal Transformer decoder with cross-attention to fused tokens, and its language-model head.
///
/// ```swift
/// let decoder = TextDecoder(TextDecoderConfig(vocabSize: 1000, dimension: 64, layers: 2, heads: 4), generator: g)
/// let logits = decoder(ids, context: fused)                   // ids [B, T] → [B, T, 1000]
/// let loss = decoder.loss(ids, targets: next, context: fused) // teacher forcing
/// let text = decoder.generate(context: fused, prompts: [[bos], [bos]],
///                             options: GenerationOptions(strategy: .beamSearch(width: 4), maxNewTokens: 30, stopTokens: [eos]))
/// ```
public final class TextDecoder: Module, @unchecked Sendable {
    @ModuleInfo(key: "embed_tokens") public var tokenEmbedding: Embedding
    @ModuleInfo(key: "embed_positions") public var positionEmbedding: Embedding?
    @ModuleInfo(key: "dropout") var embeddingDropout: Dropout
    @ModuleInfo(key: "layers") public var layers: [TransformerDecoderLayer]
    @ModuleInfo(key: "norm") public var norm: LayerNorm
    /// nil when the head is tied to ``tokenEmbedding``.
    @ModuleInfo(key: "lm_head") public var head: Linear?
    public let config: TextDecoderConfig

    public init(_ config: TextDecoderConfig, generator: Generator) {
        if let problem = config.problem { preconditionFailure("TextDecoder: \(problem)") }
        self.config = config
        super.init()
        let d = config.dimension
        // N(0, 0.02) tables as GPT-2: they feed a pre-norm residual stream (and a tied head)
        tokenEmbedding = Embedding(weight: Tensor.normal([config.vocabSize, d], std: 0.02, generator: generator))
        positionEmbedding = config.positions == .learned
            ? Embedding(weight: Tensor.normal([config.maxLength, d], std: 0.02, generator: generator)) : nil
        embeddingDropout = Dropout(config.dropout, generator: generator)
        let rope = config.positions == .rotary ? RotaryEmbedding(dimension: d / config.heads, base: config.ropeBase) : nil
        layers = (0..<config.layers).map { _ in
            let layer = TransformerDecoderLayer(dimension: d, heads: config.heads, mlpHiddenSize: config.mlpRatio * d,
                                                contextDimension: config.contextDimension, activation: .gelu,
                                                placement: .pre, rotary: rope, dropout: config.dropout, generator: generator)
            SequenceLengths.removeKeyBias(layer.selfAttention)
            SequenceLengths.removeKeyBias(layer.crossAttention)
            return layer
        }
        norm = LayerNorm(d)
        head = config.tiedHead ? nil : Linear(d, config.vocabSize, bias: false, generator: generator)
    }

    /// Fresh caches, one pair per layer, for ``callAsFunction(_:context:caches:)``.
    public func makeCaches() -> [TransformerDecoderLayer.Caches] { layers.map { _ in TransformerDecoderLayer.Caches() } }

    /// Logits for every position: ids [B, T] (integer) attending to `context` (fused tokens
    /// [B, N, contextDimension] and their mask) → [B, T, vocabSize].
    ///
    /// With `caches` the ids continue the sequence the caches hold (positions `cached ..< cached + T`);
    /// the cross-attention caches are filled from `context` on the first call and reused after.
    /// Right-padded target rows need no mask: causal attention never lets a real position see the
    /// padding after it.
    public func callAsFunction(_ ids: Tensor, context: ModalityTokens, caches: [TransformerDecoderLayer.Caches]? = nil) -> Tensor {
        precondition(ids.rank == 2 && !ids.dtype.isFloatingPoint && ids.dtype != .bool,
                     "TextDecoder: ids must be integer [B, T], got \(ids.dtype) \(ids.shape)")
        precondition(context.batchSize == ids.shape[0] && context.dimension == config.contextDimension,
                     "TextDecoder: context tokens \(context.tokens.shape) must be [\(ids.shape[0]), N, \(config.contextDimension)] for ids \(ids.shape)")
        if let caches { precondition(caches.count == layers.count, "TextDecoder: \(caches.count) caches for \(layers.count) layers") }
        let t = ids.shape[1]
        let start = caches?.first?.selfAttention.length ?? 0
        precondition(start + t <= config.maxLength,
                     "TextDecoder: positions \(start)..<\(start + t) exceed maxLength \(config.maxLength)")
        var x = tokenEmbedding(ids)                                                           // [B, T, D]
        if let positionEmbedding { x = x + positionEmbedding.weight.narrowed(axis: 0, start: start, length: t) }
        x = embeddingDropout(x)
        for (i, layer) in layers.enumerated() {
            x = layer(x, context: context.tokens, contextPadding: context.mask, caches: caches?[i]).output   // [B, T, D]
        }
        x = norm(x)
        if let head { return head(x) }                                                        // [B, T, V]
        return x.linear(weight: tokenEmbedding.weight)                                        // [B, T, V]
    }

    /// Mean cross-entropy of `targets` [B, T] (usually `ids` shifted left by one; `ignoreIndex`
    /// marks padding) given `ids` [B, T] and the fused tokens.
    public func loss(_ ids: Tensor, targets: Tensor, context: ModalityTokens, ignoreIndex: Int = -100) -> Tensor {
        precondition(targets.shape == ids.shape, "TextDecoder.loss: targets \(targets.shape) must have the shape of ids \(ids.shape)")
        let logits = self(ids, context: context)                                              // [B, T, V]
        return Tensor.crossEntropy(logits: logits.reshaped([-1, config.vocabSize]), targets: targets.reshaped([-1]),
                                   ignoreIndex: ignoreIndex)
    }

    public override var summary: String {
        "TextDecoder(vocab: \(config.vocabSize), dimension: \(config.dimension), layers: \(config.layers), heads: \(config.heads), \(config.positions.rawValue) positions)"
    }
}
