/// A checkpoint, run log or plot that cannot be written or read: names the file and what is wrong.
public struct CheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file or directory at fault.
    public let file: String
    /// What is wrong with it.
    public let message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
