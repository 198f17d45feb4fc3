import OmniData

/// What ``OmniModel/explainImage(_:text:task:method:rollout:)`` finds for one image.
public struct ImageExplanation: Sendable, Equatable {
    public let method: ExplanationMethod
    /// Relevance per patch of the image's token grid.
    public let relevance: RelevanceMap
    /// The router's gate for each modality given (image, and text when a prompt was given).
    public let gates: [Modality: Float]
    /// The task index the sample ran with.
    public let task: Int

    public init(method: ExplanationMethod, relevance: RelevanceMap, gates: [Modality: Float], task: Int) {
        self.method = method
        self.relevance = relevance
        self.gates = gates
        self.task = task
    }
}
