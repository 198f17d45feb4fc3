/// Special tokens, truncation and padding for `Tokenizer.encode(_:options:)` and `encodeBatch`.
///
/// A Hugging Face `tokenizer.json` carries its own truncation and padding; the tokenizer loaded from
/// it reports them as `defaultEncodingOptions`, which the encoding methods use when given no options.
public struct EncodingOptions: Sendable, Equatable {
    /// Whether the tokenizer's template (e.g. `[CLS]` … `[SEP]`) wraps each sequence.
    public var addSpecialTokens: Bool
    public var truncation: Truncation?
    public var padding: Padding?

    public init(addSpecialTokens: Bool = true, truncation: Truncation? = nil, padding: Padding? = nil) {
        self.addSpecialTokens = addSpecialTokens
        self.truncation = truncation
        self.padding = padding
    }
}
