/// How encoded sequences are padded to a common length.
///
/// ```swift
/// // Pad every sequence of a batch to the longest one, with pad id 0, on the right.
/// let options = EncodingOptions(padding: Padding(.longest))
/// ```
public struct Padding: Sendable, Equatable {
    /// The length sequences are padded to.
    public enum Length: Sendable, Equatable {
        /// The longest sequence of the batch (a single encoding is not padded).
        case longest
        /// This many ids; when a sequence is longer (truncation cuts them) it is left as it is and the
        /// other rows of its batch are padded to its length, so that rows stay equally long.
        case fixed(Int)
    }

    public var length: Length
    /// The id written into padded positions (their attention mask is 0).
    public var padID: Int
    /// The end padding is added to.
    public var side: SequenceSide
    /// When set, the padded length is rounded up to a multiple of this.
    public var multiple: Int?

    public init(_ length: Length, padID: Int = 0, side: SequenceSide = .right, multiple: Int? = nil) {
        self.length = length
        self.padID = padID
        self.side = side
        self.multiple = multiple
    }
}
