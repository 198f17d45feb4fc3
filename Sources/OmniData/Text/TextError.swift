/// Text that cannot be read — invalid UTF-8 — naming the source (file or label), the byte offset
/// and line of the first bad byte, and why it is bad.
public struct TextError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file or label the text came from.
    public let source: String
    /// 0-based byte offset of the first invalid byte.
    public let offset: Int
    /// 1-based line of that byte.
    public let line: Int
    public let message: String

    public init(source: String, offset: Int, line: Int, _ message: String) {
        self.source = source
        self.offset = offset
        self.line = line
        self.message = message
    }

    public var description: String { "\(source):\(line): \(message) at byte offset \(offset)" }
}
