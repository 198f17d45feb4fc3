import OmniTensor

/// Inverted dropout, active only in training mode. Draws its masks from the generator it is
/// given, so a seeded run is reproducible.
public final class Dropout: UnaryModule, @unchecked Sendable {
    public let probability: Float
    public let generator: Generator

    public init(_ probability: Float, generator: Generator) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.generator = generator
        super.init()
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        x.dropout(p: probability, training: isTraining, generator: generator)
    }

    public override var summary: String { "Dropout(\(probability))" }
}
