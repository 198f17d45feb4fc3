/// Turns text into token ids and back.
///
/// Implementations: WordPiece (BERT `tokenizer.json`), byte-level BPE (`tokenizer.json`), and
/// tiktoken `.tiktoken` files with GPT-2's or cl100k's split pattern.
public protocol Tokenizer: Sendable {
    /// The ids of `text`, with the model's special tokens (e.g. `[CLS]` … `[SEP]`) when asked.
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int]
    /// The text of `ids`; special tokens are dropped when `skipSpecialTokens` is true.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String
    /// Number of ids the tokenizer can produce.
    var vocabularySize: Int { get }
}
