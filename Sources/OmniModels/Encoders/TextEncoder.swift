// Text encoder: token ids → contextual token vectors for fusion.
//
// Two backbones:
//
// - `rotary`: a pre-norm Transformer encoder with rotary position embeddings (RoPE, Su et al. 2021,
//   "RoFormer", arXiv:2104.09864) in every self-attention, as in RoFormer / Llama but bidirectional:
//
//     ids [B, T] ─ embed_tokens ─ L × layers (x + attn(norm1(x)) with RoPE, x + mlp(norm2(x))) ─ norm
//
//   Positions enter only through the rotation of queries and keys, so a sample's tokens get the
//   same positions 0..<n however much right padding the batch adds, and padded keys are masked
//   out of every attention row: padding cannot change the real tokens' outputs.
//
// - `bert`: a pretrained BERT / MiniLM encoder (`BertModel`, e.g. all-MiniLM-L6-v2 from
//   `scripts/fetch-assets`) whose last hidden states are projected to `dimension` by `proj`.
//
// Keys: `embed_tokens`, `layers.N.{self_attn, norm1, mlp, norm2}`, `norm` (rotary); `bert.*`
// (transformers' BERT names, no pooler) and `proj` (bert). Key projections have no bias (see
// SequenceLengths.removeKeyBias).
//
// Output: tokens [B, T, D] and the input mask [B, T]; padded positions hold 0.

import Foundation
import OmniNN
import OmniTensor

/// Hyper-parameters of a ``TextEncoder``.
///
/// ```swift
/// let config = TextEncoderConfig.rotary(vocabSize: 8192, dimension: 256, layers: 4, heads: 4)
/// let pretrained = TextEncoderConfig.bert(try BertConfig(contentsOf: dir.appendingPathComponent("config.json")),
///                                         dimension: 256)
/// ```
public struct TextEncoderConfig: Codable, Sendable, Equatable {
    public enum Backbone: String, Codable, Sendable {
        /// A RoPE Transformer trained from scratch.
        case rotary
        /// A pretrained BERT/MiniLM encoder plus a linear projection.
        case bert
    }

    public var backbone: Backbone
    /// Width D of the produced tokens.
    public var dimension: Int
    /// Token ids accepted (rotary backbone).
    public var vocabSize: Int
    /// Transformer blocks (rotary backbone).
    public var layers: Int
    /// Attention heads; must divide `dimension` into an even head size (rotary backbone).
    public var heads: Int
    /// MLP hidden size as a multiple of `dimension` (rotary backbone).
    public var mlpRatio: Int
    /// Dropout on attention weights and residual branches (training only; rotary backbone).
    public var dropout: Float
    /// RoPE's base wavelength (10 000 in RoFormer and Llama).
    public var ropeBase: Double
    /// Longest token sequence accepted (rotary backbone; BERT has its own `maxPositions`).
    public var maxLength: Int
    /// The pretrained encoder's configuration (bert backbone).
    public var bert: BertConfig?

    public init(backbone: Backbone, dimension: Int, vocabSize: Int, layers: Int, heads: Int, mlpRatio: Int = 4,
                dropout: Float = 0, ropeBase: Double = 10_000, maxLength: Int = 2048, bert: BertConfig? = nil) {
        self.backbone = backbone
        self.dimension = dimension
        self.vocabSize = vocabSize
        self.layers = layers
        self.heads = heads
        self.mlpRatio = mlpRatio
        self.dropout = dropout
        self.ropeBase = ropeBase
        self.maxLength = maxLength
        self.bert = bert
    }

    /// A RoPE Transformer encoder.
    public static func rotary(vocabSize: Int, dimension: Int, layers: Int, heads: Int, mlpRatio: Int = 4,
                              dropout: Float = 0, maxLength: Int = 2048) -> TextEncoderConfig {
        TextEncoderConfig(backbone: .rotary, dimension: dimension, vocabSize: vocabSize, layers: layers, heads: heads,
                          mlpRatio: mlpRatio, dropout: dropout, maxLength: maxLength)
    }

    /// A pretrained BERT encoder projected to `dimension`.
    public static func bert(_ bert: BertConfig, dimension: Int) -> TextEncoderConfig {
        TextEncoderConfig(backbone: .bert, dimension: dimension, vocabSize: bert.vocabularySize, layers: bert.layerCount,
                          heads: bert.attentionHeadCount, mlpRatio: 4, dropout: bert.hiddenDropout,
                          maxLength: bert.maxPositions, bert: bert)
    }

    /// Why these sizes cannot build an encoder, or nil.
    public var problem: String? {
        if dimension <= 0 { return "dimension must be positive, got \(dimension)" }
        switch backbone {
        case .rotary:
            if vocabSize <= 0 || layers < 0 || mlpRatio <= 0 || maxLength <= 0 {
                return "vocabSize \(vocabSize), maxLength \(maxLength) and mlpRatio \(mlpRatio) must be positive and layers \(layers) not negative"
            }
            if heads <= 0 || dimension % heads != 0 || (dimension / heads) % 2 != 0 {
                return "dimension \(dimension) must split into \(heads) heads of an even size (rotary positions rotate pairs)"
            }
            if !(dropout >= 0 && dropout < 1) { return "dropout must be in [0, 1), got \(dropout)" }
        case .bert:
            guard let bert else { return "the bert backbone needs a BERT configuration" }
            if let problem = bert.problem { return problem }
        }
        return nil
    }
}

/// Encodes token ids into ``ModalityTokens`` with a RoPE Transformer or a pretrained BERT.
///
/// ```swift
/// let encoder = TextEncoder(.rotary(vocabSize: 1000, dimension: 64, layers: 2, heads: 4), generator: g)
/// let batch = TextEncoder.Batch(sequences: [[5, 9, 2], [7, 1]])          // right-padded with 0
/// let out = encoder(batch)          // tokens [2, 3, 64], mask [[T, T, T], [T, T, F]]
/// ```
public final class TextEncoder: Module, ModalityEncoder, @unchecked Sendable {
    /// Token ids, right-padded, with a mask of the real tokens.
    public struct Batch: @unchecked Sendable {
        /// Integer ids [B, T] (int32 or int64); padded positions may hold any valid id.
        public var ids: Tensor
        /// bool [B, T]: true for real tokens. Put them first in each row (right padding): rotary and
        /// BERT positions count from the row's start, so left padding would shift them.
        public var mask: Tensor

        public init(ids: Tensor, mask: Tensor) {
            precondition(ids.rank == 2 && !ids.dtype.isFloatingPoint && ids.dtype != .bool,
                         "TextEncoder.Batch: ids must be integer [B, T], got \(ids.dtype) \(ids.shape)")
            precondition(mask.dtype == .bool && mask.shape == ids.shape,
                         "TextEncoder.Batch: mask must be bool \(ids.shape), got \(mask.dtype) \(mask.shape)")
            self.ids = ids
            self.mask = mask
        }

        /// Pads `sequences` on the right with `padID` to the longest one.
        public init(sequences: [[Int]], padID: Int = 0) {
            let t = sequences.map(\.count).max() ?? 0
            var ids = [Int](repeating: padID, count: sequences.count * t)
            for (b, s) in sequences.enumerated() { for (i, id) in s.enumerated() { ids[b * t + i] = id } }
            self.init(ids: Tensor(ids, shape: [sequences.count, t], dtype: .int32),
                      mask: SequenceLengths.mask(sequences.map(\.count), count: t))
        }

        /// Real tokens per sample.
        public var lengths: [Int] {
            let m = mask.toBoolArray(), t = mask.shape[1]
            return (0..<mask.shape[0]).map { b in (0..<t).reduce(0) { $0 + (m[b * t + $1] ? 1 : 0) } }
        }
    }

    @ModuleInfo(key: "embed_tokens") public var tokenEmbedding: Embedding?
    @ModuleInfo(key: "layers") public var layers: [TransformerEncoderLayer]
    @ModuleInfo(key: "norm") public var norm: LayerNorm?
    @ModuleInfo(key: "bert") public var bert: BertModel?
    @ModuleInfo(key: "proj") public var projection: Linear?
    public let config: TextEncoderConfig

    public var outputDimension: Int { config.dimension }

    /// A freshly initialised encoder (the BERT backbone with transformers' random initialisation;
    /// load a checkpoint with ``loadBackbone(directory:)``).
    public convenience init(_ config: TextEncoderConfig, generator: Generator) {
        self.init(config, generator: generator,
                  bertInitializer: .random(std: config.bert?.initializerRange ?? 0.02, generator: generator))
    }

    init(_ config: TextEncoderConfig, generator: Generator, bertInitializer: BertInitializer) {
        if let problem = config.problem { preconditionFailure("TextEncoder: \(problem)") }
        self.config = config
        super.init()
        let d = config.dimension
        switch config.backbone {
        case .rotary:
            // N(0, 0.02) as GPT-2: the table feeds a pre-norm residual stream
            tokenEmbedding = Embedding(weight: Tensor.normal([config.vocabSize, d], std: 0.02, generator: generator))
            let rope = RotaryEmbedding(dimension: d / config.heads, base: config.ropeBase)
            layers = (0..<config.layers).map { _ in
                let layer = TransformerEncoderLayer(dimension: d, heads: config.heads, mlpHiddenSize: config.mlpRatio * d,
                                                    activation: .gelu, placement: .pre, rotary: rope,
                                                    dropout: config.dropout, generator: generator)
                SequenceLengths.removeKeyBias(layer.attention)
                return layer
            }
            norm = LayerNorm(d)
            bert = nil
            projection = nil
        case .bert:
            let bertConfig = config.bert!
            tokenEmbedding = nil
            layers = []
            norm = nil
            bert = BertModel(bertConfig, pooler: false, initializer: bertInitializer)
            projection = Linear(bertConfig.hiddenSize, d, generator: generator)
        }
    }

    /// tokens [B, T, D] and the batch's mask [B, T]; padded positions hold 0.
    public func callAsFunction(_ batch: Batch) -> ModalityTokens {
        let (b, t) = (batch.ids.shape[0], batch.ids.shape[1])
        let hidden: Tensor
        switch config.backbone {
        case .rotary:
            precondition(t <= config.maxLength, "TextEncoder: \(t) tokens exceed maxLength \(config.maxLength)")
            var x = tokenEmbedding!(batch.ids)                                         // [B, T, D]
            for layer in layers { x = layer(x, keyPadding: batch.mask).output }        // [B, T, D]
            hidden = norm!(x)
        case .bert:
            let h = bert!(batch.ids, attentionMask: batch.mask).lastHiddenState        // [B, T, H]
            hidden = projection!(h)                                                     // [B, T, D]
        }
        let tokens = b * t == 0 ? hidden : Tensor.where(batch.mask.unsqueezed(axis: -1), hidden, Tensor(0))   // [B, T, D]
        return ModalityTokens(tokens: tokens, mask: batch.mask)
    }

    /// Loads a pretrained BERT checkpoint folder (`config.json` + `model.safetensors` or
    /// `pytorch_model.bin`, as ``BertModel/load(directory:)``) into the `bert` backbone, strictly;
    /// the checkpoint's configuration must equal the encoder's. The projection keeps its values.
    public func loadBackbone(directory: URL) throws {
        guard config.backbone == .bert, let bert else {
            throw WeightsError(file: directory.path, "the text encoder has a \(config.backbone.rawValue) backbone, not bert")
        }
        let configURL = directory.appendingPathComponent("config.json")
        let checkpointConfig = try BertConfig(contentsOf: configURL)
        guard checkpointConfig == bert.config else {
            throw WeightsError(file: configURL.path, "the checkpoint's configuration differs from the encoder's BERT configuration")
        }
        let safetensors = directory.appendingPathComponent("model.safetensors")
        let file = FileManager.default.fileExists(atPath: safetensors.path)
            ? safetensors : directory.appendingPathComponent("pytorch_model.bin")
        // the pooler is not part of the backbone; everything else must fit exactly
        let weights = try BertModel.readWeights(file.path).filter { !$0.key.hasPrefix("pooler.") }
        try bert.load(weights, file: file.path)
    }

    /// An encoder whose BERT backbone comes from a checkpoint folder and whose projection to
    /// `dimension` is freshly initialised from `generator`.
    ///
    /// ```swift
    /// let text = try TextEncoder.pretrained(directory: Assets.file("minilm"), dimension: 256, generator: g)
    /// ```
    public static func pretrained(directory: URL, dimension: Int, generator: Generator) throws -> TextEncoder {
        let bertConfig = try BertConfig(contentsOf: directory.appendingPathComponent("config.json"))
        // placeholder backbone weights: the checkpoint replaces them all
        let encoder = TextEncoder(.bert(bertConfig, dimension: dimension), generator: generator,
                                  bertInitializer: .placeholders())
        try encoder.loadBackbone(directory: directory)
        return encoder
    }

    public override var summary: String {
        switch config.backbone {
        case .rotary: return "TextEncoder(rotary, dimension: \(config.dimension), layers: \(config.layers), heads: \(config.heads))"
        case .bert: return "TextEncoder(bert → \(config.dimension))"
        }
    }
}
