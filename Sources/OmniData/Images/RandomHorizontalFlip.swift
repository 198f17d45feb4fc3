import OmniTensor

/// Mirrors an image left to right with probability `probability` (torchvision's
/// `RandomHorizontalFlip`): one uniform draw from the generator per call.
public struct RandomHorizontalFlip: Sendable, Equatable {
    /// The chance of a flip, 0...1.
    public let probability: Double

    /// Flips with probability `probability` (0.5 by default).
    public init(probability: Double = 0.5) {
        imageCheck((0...1).contains(probability), "RandomHorizontalFlip",
                   "probability must be in 0...1, got \(probability)")
        self.probability = probability
    }

    /// The image, mirrored or not according to one draw from `generator`.
    public func apply(to image: Image, generator: Generator) -> Image {
        generator.nextDouble() < probability ? image.flippedHorizontally() : image
    }
}
