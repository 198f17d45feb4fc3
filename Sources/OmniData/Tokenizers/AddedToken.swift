/// A token a Hugging Face `tokenizer.json` adds on top of its model's vocabulary (`added_tokens`),
/// such as `[CLS]` or `<|endoftext|>`. Its text is found in the input before the model runs.
public struct AddedToken: Sendable, Equatable {
    public var id: Int
    public var content: String
    /// Special tokens are dropped by `decode(_:skipSpecialTokens: true)`.
    public var special: Bool
    /// Whether the token also takes the whitespace on its left / right.
    public var leftStrip: Bool
    public var rightStrip: Bool
    /// Whether the token only matches a whole word (no letter or digit next to it).
    public var singleWord: Bool
    /// Whether the token is looked for in the normalized text rather than the raw input.
    public var normalized: Bool

    public init(id: Int, content: String, special: Bool = true, leftStrip: Bool = false, rightStrip: Bool = false,
                singleWord: Bool = false, normalized: Bool = false) {
        self.id = id
        self.content = content
        self.special = special
        self.leftStrip = leftStrip
        self.rightStrip = rightStrip
        self.singleWord = singleWord
        self.normalized = normalized
    }
}
