import Foundation
import OmniData
import OmniNN
import OmniTensor

/// Sentence embeddings from a sentence-transformers model folder (all-MiniLM-L6-v2 and other
/// BERT-based models): tokenize, run ``BertModel``, pool over the real tokens, L2-normalise.
///
/// The folder holds `config.json`, `model.safetensors` (or `pytorch_model.bin`), `tokenizer.json`,
/// `modules.json`, `1_Pooling/config.json` and `sentence_bert_config.json`; the last two and
/// `modules.json` are optional (mean pooling, normalisation, the model's position limit).
/// Texts are truncated to `max_seq_length` tokens (special tokens included), grouped into batches
/// of similar length and padded to the longest of each batch, so results do not depend on the
/// batch a text lands in beyond float32 rounding.
///
/// ```swift
/// let embedder = try SentenceEmbedder(directory: Assets.file("minilm"))
/// let vectors = embedder.embed(["A man is eating food.", "A man is eating a piece of bread."])
/// let cosine = zip(vectors[0], vectors[1]).map(*).reduce(0, +)   // unit vectors: dot = cosine
/// ```
public final class SentenceEmbedder: Sendable {
    /// The encoder, in evaluation mode.
    public let model: BertModel
    public let tokenizer: any Tokenizer
    /// Texts are cut to this many tokens, `[CLS]` and `[SEP]` included.
    public let maxSequenceLength: Int
    /// Concatenated in this order.
    public let poolingModes: [PoolingMode]
    /// Whether embeddings are divided by their Euclidean norm.
    public let normalizes: Bool
    /// Whether texts are lowercased before tokenizing (`do_lower_case`).
    public let lowercasesInput: Bool
    let padID: Int

    /// Size of each embedding.
    public var dimension: Int { model.config.hiddenSize * poolingModes.count }

    /// Assembles an embedder from parts; `model` is switched to evaluation mode.
    public init(model: BertModel, tokenizer: any Tokenizer, maxSequenceLength: Int, poolingModes: [PoolingMode] = [.mean],
                normalizes: Bool = true, lowercasesInput: Bool = false) {
        precondition(maxSequenceLength >= 2 && maxSequenceLength <= model.config.maxPositions,
                     "SentenceEmbedder: max sequence length \(maxSequenceLength) must be in 2...\(model.config.maxPositions) (the model's positions)")
        precondition(!poolingModes.isEmpty, "SentenceEmbedder: no pooling mode")
        model.eval()
        self.model = model
        self.tokenizer = tokenizer
        self.maxSequenceLength = maxSequenceLength
        self.poolingModes = poolingModes
        self.normalizes = normalizes
        self.lowercasesInput = lowercasesInput
        padID = tokenizer.defaultEncodingOptions.padding?.padID ?? model.config.padTokenID ?? 0
    }

    /// Loads a sentence-transformers model folder. Errors name the file at fault: a
    /// `WeightsError` for configuration and weight files, a `TokenizerError` for
    /// `tokenizer.json`, a `LoadError` when the weights do not fit the configuration.
    public convenience init(directory: URL) throws {
        let settings = try Settings(directory: directory)
        let model = try BertModel.load(directory: directory)
        if let width = settings.poolingWidth, width != model.config.hiddenSize {
            throw WeightsError(file: settings.poolingFile,
                               "embedding dimension \(width) differs from the model's hidden_size \(model.config.hiddenSize)")
        }
        let tokenizer = try HuggingFaceTokenizer.load(contentsOf: directory.appendingPathComponent("tokenizer.json"))
        let maxLength = Swift.min(settings.maxSequenceLength ?? model.config.maxPositions, model.config.maxPositions)
        self.init(model: model, tokenizer: tokenizer, maxSequenceLength: maxLength, poolingModes: settings.poolingModes,
                  normalizes: settings.normalizes, lowercasesInput: settings.lowercasesInput)
    }

    /// The token ids the model sees for each text: special tokens added, truncated to
    /// ``maxSequenceLength``, not padded.
    public func tokenize(_ texts: [String]) -> [[Int]] {
        let options = EncodingOptions(addSpecialTokens: true, truncation: Truncation(maxLength: maxSequenceLength))
        return tokenizer.encodeBatch(lowercasesInput ? texts.map { $0.lowercased() } : texts, options: options).ids
    }

    /// One embedding per text, in order.
    ///
    /// Texts are sorted by token count and run `batchSize` at a time (as sentence-transformers
    /// does), so each batch carries little padding.
    public func embed(_ texts: [String], batchSize: Int = 32) -> [[Float]] {
        precondition(batchSize >= 1, "SentenceEmbedder.embed: batch size must be at least 1, got \(batchSize)")
        let rows = tokenize(texts)
        let order = rows.indices.sorted { (rows[$0].count, $1) > (rows[$1].count, $0) }   // longest first, stable
        var result = [[Float]](repeating: [], count: texts.count)
        for start in stride(from: 0, to: order.count, by: batchSize) {
            let members = Array(order[start..<Swift.min(start + batchSize, order.count)])
            let vectors = embed(tokenRows: members.map { rows[$0] })
            for (i, v) in zip(members, vectors) { result[i] = v }
        }
        return result
    }

    /// The embedding of one text.
    public func embed(_ text: String) -> [Float] { embed([text])[0] }

    /// Embeddings [B, dimension] of token-id rows padded to the longest row, as a tensor.
    public func embeddings(tokenRows rows: [[Int]]) -> Tensor {
        precondition(rows.allSatisfy { !$0.isEmpty && $0.count <= model.config.maxPositions },
                     "SentenceEmbedder: every row needs 1...\(model.config.maxPositions) tokens, got lengths \(rows.map(\.count))")
        let b = rows.count, t = rows.map(\.count).max() ?? 0
        var ids = [Int](repeating: padID, count: b * t)
        var real = [Bool](repeating: false, count: b * t)
        for (r, row) in rows.enumerated() {
            for (j, id) in row.enumerated() { ids[r * t + j] = id; real[r * t + j] = true }
        }
        let lengths = rows.map(\.count)
        // A batch of equal lengths has no padding to mask.
        let mask = lengths.allSatisfy { $0 == t } ? nil : Tensor(real, shape: [b, t])   // [B, T]
        return GradMode.withoutGrad {
            let hidden = model(Tensor(ids, shape: [b, t]), attentionMask: mask).lastHiddenState   // [B, T, D]
            let pooled = SentenceEmbedder.pool(hidden, mask: mask, lengths: lengths, modes: poolingModes)
            return normalizes ? SentenceEmbedder.l2Normalized(pooled) : pooled                  // [B, E]
        }
    }

    func embed(tokenRows rows: [[Int]]) -> [[Float]] {
        guard !rows.isEmpty else { return [] }
        let flat = embeddings(tokenRows: rows).toArray()
        let e = flat.count / rows.count
        return (0..<rows.count).map { Array(flat[($0 * e)..<(($0 + 1) * e)]) }
    }
}
