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

extension TaskCategory {
    /// Whether a manifest sample of this category carries, in its `text`, a description of its
    /// other modalities (a caption, a transcript, a labelled description) rather than a query
    /// about them (a question, a thing to find, count, compare or extract). Only describing texts
    /// are positives for contrastive alignment: "what colour are the shapes?" is not a view of the
    /// image it asks about.
    public var textDescribesInput: Bool {
        switch self {
        case .questionAnswering, .detection, .localization, .counting, .comparison, .extraction: return false
        case .captioning, .classification, .retrieval, .transcription, .summarization, .reportDrafting, .explanation, .generation:
            return true
        }
    }
}
