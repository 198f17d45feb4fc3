/// A tokenizer file that cannot be used: unreadable, malformed, or of a kind Omni does not implement.
///
/// The description names the file first, then what is wrong and where (field path or line), e.g.
/// `tokenizer.json: unsupported normalizer type "Precompiled" at normalizer.type`.
public struct TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file involved (its path as given to the loader).
    public let file: String
    /// What is wrong, naming the field, line or kind involved.
    public let message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
