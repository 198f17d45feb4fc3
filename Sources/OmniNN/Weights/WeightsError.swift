/// A checkpoint or array file that cannot be read (or written), naming the file and what is wrong.
///
/// Every weights reader validates headers, offsets and sizes against the file before allocating,
/// so a truncated, corrupt or lying file produces one of these instead of a crash or a huge allocation.
public struct WeightsError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file involved.
    public let file: String
    /// What is wrong, naming the key, offset or shape involved.
    public let message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
