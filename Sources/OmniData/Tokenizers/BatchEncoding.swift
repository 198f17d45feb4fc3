/// The ids and attention masks of several texts, padded as the options asked.
///
/// With `Padding(.longest)` or a fixed length every row has the same length, ready to become a
/// `[batch, length]` tensor.
public struct BatchEncoding: Sendable, Equatable {
    /// One row of ids per text.
    public var ids: [[Int]]
    /// One row per text: 1 for a token, 0 for padding.
    public var attentionMask: [[Int]]

    public init(ids: [[Int]], attentionMask: [[Int]]) {
        self.ids = ids
        self.attentionMask = attentionMask
    }
}
