/// Why a model or input cannot be explained (no image encoder, no ViT for attention rollout, no
/// text or no co-attention for a co-attention map, a prompt the text encoder cannot take, …).
public struct ExplanationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
