/// How ``OmniModel/explainImage(_:text:task:method:rollout:)`` finds the relevant patches.
public enum ExplanationMethod: String, Sendable, Codable, CaseIterable {
    /// ``AttentionRollout`` over the ViT image encoder's self-attention: what the image's own
    /// representation draws on (independent of the text).
    case rollout
    /// ``CoAttentionExplanation``: where the text prompt's tokens look in the image during fusion.
    case coattention
}
