/// A problem with an instruction template or its use: an unknown task, a value missing for a
/// placeholder, a malformed template, an invalid task definition.
public struct TemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case unknownTask, missingValue, malformedTemplate, invalidTask
    }

    public let kind: Kind
    /// The task involved, when there is one.
    public let task: String?
    /// The 0-based phrasing involved, when there is one.
    public let phrasing: Int?
    public let message: String

    public init(_ kind: Kind, task: String? = nil, phrasing: Int? = nil, _ message: String) {
        self.kind = kind
        self.task = task
        self.phrasing = phrasing
        self.message = message
    }

    public var description: String {
        var where_ = ""
        if let task { where_ = "task '\(task)'" }
        if let phrasing { where_ += (where_.isEmpty ? "" : " ") + "phrasing \(phrasing)" }
        return where_.isEmpty ? message : "\(where_): \(message)"
    }
}
