/// A signal file (CSV, `.npy`, audio, `.ts`) that cannot be read, naming the file, the line when
/// the problem sits on one, and the reason.
///
/// ```swift
/// do { _ = try Signal(csvContentsOf: "imu.csv", options: .init(sampleRate: 100)) }
/// catch { print(error) }      // imu.csv:7: 3 fields, expected 4 (as in the header on line 1)
/// ```
public struct SignalError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file involved (or the name given to in-memory text).
    public let file: String
    /// The 1-based line the problem is on, when it is on one.
    public let line: Int?
    /// What is wrong.
    public let message: String

    public init(file: String, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
