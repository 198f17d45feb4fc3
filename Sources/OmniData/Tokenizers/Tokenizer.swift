/// Turns text into token ids and back.
///
/// Implementations: `WordPieceTokenizer` (BERT `tokenizer.json`), `ByteLevelBPETokenizer` (GPT-2
/// style `tokenizer.json`) and `TiktokenTokenizer` (`.tiktoken` files with GPT-2's or cl100k's split
/// pattern, or trained by `BPETrainer`). `HuggingFaceTokenizer.load(contentsOf:)` picks the first two
/// from a file.
///
/// ```swift
/// let tokenizer = try HuggingFaceTokenizer.load(contentsOf: url)      // all-MiniLM-L6-v2
/// tokenizer.encode("A man is eating food.", addSpecialTokens: true)  // [101, 1037, 2158, …, 102]
/// let batch = tokenizer.encodeBatch(["a", "longer text"], options: EncodingOptions(padding: Padding(.longest)))
/// ```
public protocol Tokenizer: Sendable {
    /// The ids of `text`, wrapped in the model's special tokens (e.g. `[CLS]` … `[SEP]`) when asked.
    /// Never truncated or padded; see `encode(_:options:)` for that.
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int]
    /// The text of `ids`; special tokens are dropped when `skipSpecialTokens` is true. Ids that name
    /// no token are skipped.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String
    /// Number of ids the tokenizer can produce (largest id + 1).
    var vocabularySize: Int { get }
    /// `ids` wrapped in the special tokens a single sequence gets; `ids` itself for tokenizers without
    /// a template.
    func addingSpecialTokens(to ids: [Int]) -> [Int]
    /// The options `encode(_:options:)` and `encodeBatch(_:options:)` use when given none: those stored
    /// in the tokenizer's file, or no truncation and no padding.
    var defaultEncodingOptions: EncodingOptions { get }
}

extension Tokenizer {
    public func addingSpecialTokens(to ids: [Int]) -> [Int] { ids }

    public var defaultEncodingOptions: EncodingOptions { EncodingOptions() }

    /// The ids of `text` with special tokens, truncated and padded as `options` say.
    ///
    /// Truncation removes text tokens only, so `[CLS]` and `[SEP]` survive. A single sequence is
    /// padded only to a fixed length (`.longest` has nothing to compare with).
    public func encode(_ text: String, options: EncodingOptions? = nil) -> Encoding {
        let options = options ?? defaultEncodingOptions
        let ids = truncatedIDs(text, options)
        guard let padding = options.padding else {
            return Encoding(ids: ids, attentionMask: Array(repeating: 1, count: ids.count))
        }
        return padded(ids, to: paddedLength(padding, longest: ids.count), padding)
    }

    /// The ids and attention masks of `texts`, truncated and padded as `options` say.
    ///
    /// ```swift
    /// let batch = tokenizer.encodeBatch(["hello", "hello world"],
    ///                                   options: EncodingOptions(padding: Padding(.longest)))
    /// // batch.ids = [[101, 7592, 102, 0], [101, 7592, 2088, 102]]
    /// // batch.attentionMask = [[1, 1, 1, 0], [1, 1, 1, 1]]
    /// ```
    public func encodeBatch(_ texts: [String], options: EncodingOptions? = nil) -> BatchEncoding {
        let options = options ?? defaultEncodingOptions
        let rows = texts.map { truncatedIDs($0, options) }
        guard let padding = options.padding else {
            return BatchEncoding(ids: rows, attentionMask: rows.map { Array(repeating: 1, count: $0.count) })
        }
        let length = paddedLength(padding, longest: rows.map(\.count).max() ?? 0)
        let encodings = rows.map { padded($0, to: length, padding) }
        return BatchEncoding(ids: encodings.map(\.ids), attentionMask: encodings.map(\.attentionMask))
    }

    private func truncatedIDs(_ text: String, _ options: EncodingOptions) -> [Int] {
        var ids = encode(text, addSpecialTokens: false)
        if let truncation = options.truncation {
            let reserved = options.addSpecialTokens ? addingSpecialTokens(to: []).count : 0
            precondition(truncation.maxLength >= reserved,
                         "encode: truncation maxLength \(truncation.maxLength) leaves no room for the \(reserved) special tokens")
            let keep = truncation.maxLength - reserved
            if ids.count > keep {
                ids = truncation.side == .right ? Array(ids.prefix(keep)) : Array(ids.suffix(keep))
            }
        }
        return options.addSpecialTokens ? addingSpecialTokens(to: ids) : ids
    }

    private func paddedLength(_ padding: Padding, longest: Int) -> Int {
        var length: Int
        switch padding.length {
        case .longest: length = longest
        case .fixed(let n):
            precondition(n >= 0, "encode: padding length \(n) is negative")
            length = Swift.max(n, longest)
        }
        if let multiple = padding.multiple, multiple > 0, length % multiple != 0 {
            length += multiple - length % multiple
        }
        return length
    }

    private func padded(_ ids: [Int], to length: Int, _ padding: Padding) -> Encoding {
        let missing = Swift.max(0, length - ids.count)
        let pad = Array(repeating: padding.padID, count: missing)
        let zeros = Array(repeating: 0, count: missing)
        let ones = Array(repeating: 1, count: ids.count)
        switch padding.side {
        case .right: return Encoding(ids: ids + pad, attentionMask: ones + zeros)
        case .left: return Encoding(ids: pad + ids, attentionMask: zeros + ones)
        }
    }
}
