import OmniTensor

/// Adds zero-mean Gaussian noise to a tensor (typically a normalised image, so `std` is in
/// normalised units), drawn from an explicit ``OmniTensor/Generator``.
///
/// ```swift
/// let noisy = GaussianNoise(std: 0.1).apply(to: x, generator: generator)
/// ```
public struct GaussianNoise: Sendable, Equatable {
    /// Standard deviation of the noise (0.1 by default).
    public let std: Float

    /// Noise of standard deviation `std` (finite, non-negative).
    public init(std: Float = 0.1) {
        imageCheck(std >= 0 && std.isFinite, "GaussianNoise", "std must be finite and non-negative, got \(std)")
        self.std = std
    }

    /// `tensor + N(0, std²)` elementwise (float32).
    public func apply(to tensor: Tensor, generator: Generator) -> Tensor {
        tensor + Tensor.normal(tensor.shape, mean: 0, std: std, generator: generator)
    }
}
