/// An instruction filled in from a task's phrasing: what the model reads and what it should write.
public struct RenderedInstruction: Sendable, Equatable, Codable {
    /// The task's name.
    public let task: String
    /// Which of the task's phrasings was used (0-based).
    public let phrasing: Int
    public let input: String
    public let target: String

    public init(task: String, phrasing: Int, input: String, target: String) {
        self.task = task
        self.phrasing = phrasing
        self.input = input
        self.target = target
    }
}
