/// The kind of job an ``InstructionTask`` asks for (used to group and balance tasks).
public enum TaskCategory: String, Sendable, Equatable, Codable, CaseIterable {
    case captioning
    case questionAnswering = "question_answering"
    case classification
    case detection
    case localization
    case counting
    case comparison
    case retrieval
    case transcription
    case summarization
    case reportDrafting = "report_drafting"
    case explanation
    case extraction
    case generation
}
