/// The ids of one text and which of them are real tokens (1) rather than padding (0).
public struct Encoding: Sendable, Equatable {
    public var ids: [Int]
    /// 1 for a token, 0 for padding; as long as `ids`.
    public var attentionMask: [Int]

    public init(ids: [Int], attentionMask: [Int]) {
        self.ids = ids
        self.attentionMask = attentionMask
    }
}
