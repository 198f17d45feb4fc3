/// A video file that cannot be opened or decoded, naming the file and the reason.
public struct VideoError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
