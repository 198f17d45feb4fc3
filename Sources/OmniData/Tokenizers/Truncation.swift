/// How long encoded sequences may be.
///
/// Special tokens added by the tokenizer's template (`[CLS]` … `[SEP]`) are kept: the text's own
/// tokens are cut so that, with them, the sequence has `maxLength` ids.
///
/// ```swift
/// let options = EncodingOptions(truncation: Truncation(maxLength: 128))
/// ```
public struct Truncation: Sendable, Equatable {
    /// The most ids a sequence may have, special tokens included.
    public var maxLength: Int
    /// The end the text's tokens are removed from.
    public var side: SequenceSide

    public init(maxLength: Int, side: SequenceSide = .right) {
        self.maxLength = maxLength
        self.side = side
    }
}
