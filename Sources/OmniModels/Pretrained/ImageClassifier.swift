// ImageNet classification end to end: decode an image file, torchvision's preprocessing
// (resize the shorter side to 256, center crop 224, ToTensor, ImageNet mean/std), a pretrained
// network, softmax, top-k. The entry point behind `omni classify` and `omni bench classify`.
import Foundation
import OmniData
import OmniNN
import OmniTensor

/// Classifies images with a pretrained ImageNet network.
///
/// ```swift
/// let classifier = try ImageClassifier(architecture: .mobileNetV2,
///                                      weights: Assets.file("mobilenet_v2/mobilenet_v2-b0353104.pth"))
/// for p in try classifier.classify(imageAt: Assets.file("skimage/chelsea.png")) {
///     print(p.index, p.probability)           // 285 0.717 (Egyptian cat), 282 0.147 (tiger cat), …
/// }
/// ```
public final class ImageClassifier: Sendable {
    /// The networks an ``ImageClassifier`` can run, by torchvision's name.
    public enum Architecture: String, Sendable, Codable, CaseIterable {
        case mobileNetV2 = "mobilenet_v2"
    }

    /// One class and its softmax probability.
    public struct Prediction: Sendable, Codable, Equatable {
        /// The class index (0 ..< classCount; ImageNet-1k order for the torchvision checkpoints).
        public var index: Int
        public var probability: Float

        public init(index: Int, probability: Float) {
            self.index = index
            self.probability = probability
        }
    }

    /// Timing of ``ImageClassifier/benchmark(batch:runs:warmup:)``.
    public struct Benchmark: Sendable, Codable, Equatable {
        public var architecture: String
        public var batch: Int
        public var runs: Int
        public var threads: Int
        /// Median, fastest and slowest time for one batch, in milliseconds.
        public var medianMilliseconds: Double
        public var minimumMilliseconds: Double
        public var maximumMilliseconds: Double
        /// `batch / median`.
        public var imagesPerSecond: Double
    }

    public let architecture: Architecture
    /// The folded (BatchNorm-free) network that ``classify(input:topK:)`` runs.
    public let network: FoldedMobileNetV2
    /// Side of the square crop the network is fed (224).
    public let cropSize: Int
    /// Shorter side the image is resized to before cropping (256).
    public let resizeSize: Int

    /// A classifier running `model` (folded into its inference form; later changes to `model`
    /// are not seen).
    public init(model: MobileNetV2, resizeSize: Int = 256, cropSize: Int = 224) {
        precondition(cropSize > 0 && resizeSize >= cropSize,
                     "ImageClassifier: needs 0 < cropSize ≤ resizeSize, got crop \(cropSize), resize \(resizeSize)")
        architecture = .mobileNetV2
        network = model.folded()
        self.cropSize = cropSize
        self.resizeSize = resizeSize
    }

    /// A classifier with the pretrained weights in `weights` (a torchvision checkpoint).
    ///
    /// - Throws: the reader's error for an unreadable file, ``LoadError`` for one whose tensors do
    ///   not fit the architecture.
    public convenience init(architecture: Architecture = .mobileNetV2, weights: URL) throws {
        switch architecture {
        case .mobileNetV2:
            self.init(model: try MobileNetV2.pretrained(contentsOf: weights))
        }
    }

    /// The image at `url` (PNG or JPEG) preprocessed as torchvision's ImageNet transforms:
    /// [1, 3, cropSize, cropSize].
    public func preprocess(imageAt url: URL) throws -> Tensor {
        let image = try Image(contentsOfFile: url.path)
        return image.classificationTensor(resize: resizeSize, crop: cropSize).unsqueezed(axis: 0)  // [1, 3, 224, 224]
    }

    /// The `topK` most probable classes of the image at `url`, most probable first.
    public func classify(imageAt url: URL, topK: Int = 5) throws -> [Prediction] {
        try classify(input: preprocess(imageAt: url), topK: topK)
    }

    /// The `topK` most probable classes for one preprocessed image, `[1, 3, H, W]` or `[3, H, W]`
    /// (for example read with `NPY.read`).
    public func classify(input: Tensor, topK: Int = 5) -> [Prediction] {
        let x = input.rank == 3 ? input.unsqueezed(axis: 0) : input
        precondition(x.rank == 4 && x.shape[0] == 1,
                     "ImageClassifier.classify(input:): needs one image [1, 3, H, W] or [3, H, W], got \(input.shape); use classifyBatch")
        return classifyBatch(x, topK: topK)[0]
    }

    /// The `topK` most probable classes of each image of a preprocessed batch `[B, 3, H, W]`.
    public func classifyBatch(_ input: Tensor, topK: Int = 5) -> [[Prediction]] {
        let probabilities = self.probabilities(input)  // [B, classes]
        let k = Swift.min(Swift.max(topK, 0), probabilities.shape[1])
        let (values, indices) = probabilities.topK(k, axis: 1)  // [B, k]
        let v = values.toArray(), i = indices.toIntArray()
        return (0..<probabilities.shape[0]).map { b in
            (0..<k).map { Prediction(index: i[b * k + $0], probability: v[b * k + $0]) }
        }
    }

    /// Logits of a preprocessed batch: [B, 3, H, W] → [B, classes].
    public func logits(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == 3,
                     "ImageClassifier: input must be [B, 3, H, W], got \(input.shape)")
        return network(input.converted(to: .float32))
    }

    /// Softmax probabilities of a preprocessed batch: [B, 3, H, W] → [B, classes].
    public func probabilities(_ input: Tensor) -> Tensor {
        GradMode.withoutGrad { logits(input).softmax(axis: 1) }
    }

    /// Times the network on random `[batch, 3, cropSize, cropSize]` inputs: `warmup` untimed
    /// runs, then `runs` timed ones, on ``Threads/count`` threads.
    public func benchmark(batch: Int, runs: Int = 10, warmup: Int = 2) -> Benchmark {
        precondition(batch > 0 && runs > 0 && warmup >= 0,
                     "ImageClassifier.benchmark: needs batch > 0, runs > 0, warmup ≥ 0, got \(batch), \(runs), \(warmup)")
        let x = Tensor.normal([batch, 3, cropSize, cropSize], generator: Generator(seed: 0))
        for _ in 0..<warmup { _ = logits(x) }
        let clock = ContinuousClock()
        var times: [Double] = []
        for _ in 0..<runs {
            let start = clock.now
            _ = logits(x)
            let elapsed = start.duration(to: clock.now)
            times.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15)
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        return Benchmark(architecture: architecture.rawValue, batch: batch, runs: runs, threads: Threads.count,
                         medianMilliseconds: median, minimumMilliseconds: times.first!, maximumMilliseconds: times.last!,
                         imagesPerSecond: Double(batch) / (median / 1e3))
    }
}
