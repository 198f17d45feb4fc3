/// Per-channel mean and standard deviation for ``OmniTensor/Tensor/normalizedChannels(_:)``.
public struct ImageNormalization: Sendable, Equatable, Codable {
    /// Subtracted from each channel.
    public let mean: [Float]
    /// Each channel is divided by this after subtracting the mean.
    public let std: [Float]

    /// Per-channel statistics; `std` must not contain zero.
    public init(mean: [Float], std: [Float]) {
        imageCheck(mean.count == std.count && !mean.isEmpty, "ImageNormalization",
                   "mean (\(mean.count) values) and std (\(std.count) values) must have the same non-zero length")
        imageCheck(std.allSatisfy { $0 != 0 }, "ImageNormalization", "std must not contain zero, got \(std)")
        self.mean = mean
        self.std = std
    }

    /// ImageNet statistics used by torchvision's classification weights (MobileNetV2, ResNet, ViT, …).
    public static let imageNet = ImageNormalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
}
