import Foundation
import OmniTensor

/// An image preprocessing and augmentation pipeline: steps on the ``Image``, conversion to a
/// `[C, H, W]` float32 tensor in [0, 1] (``Image/tensor()``), then steps on the tensor.
///
/// Random steps draw from the generator they are given, in step order, so one seed gives one result.
///
/// ```swift
/// let train = ImagePipeline.training(size: 224)          // random crop, flip, normalise, noise σ 0.1
/// let eval = ImagePipeline.evaluation(size: 224)         // resize 256, centre crop, normalise
/// let x = try train.apply(to: image, generator: Generator(seed: 1))   // [3, 224, 224]
/// ```
public struct ImagePipeline: Sendable {
    /// A step on the decoded image.
    public enum ImageStep: Sendable {
        /// 8-bit RGB: gray replicated, alpha dropped, 16-bit reduced to its high byte.
        case rgb
        /// 8-bit single-channel luma.
        case grayscale
        /// Shorter side to `shorterSide` (aspect ratio kept).
        case resize(shorterSide: Int, filter: ResamplingFilter = .bilinear)
        /// Exactly `width` x `height`.
        case resizeTo(width: Int, height: Int, filter: ResamplingFilter = .bilinear)
        /// The centred `width` x `height` region (zero-padded where the image is smaller).
        case centerCrop(width: Int, height: Int)
        case randomResizedCrop(RandomResizedCrop)
        case randomHorizontalFlip(RandomHorizontalFlip)
        /// Needs 8-bit samples (put ``rgb`` or ``grayscale`` first).
        case colorJitter(ColorJitter)
        case custom(@Sendable (Image, Generator) throws -> Image)
    }

    /// A step on the `[C, H, W]` tensor.
    public enum TensorStep: Sendable {
        case normalize(ImageNormalization)
        case gaussianNoise(GaussianNoise)
        case custom(@Sendable (Tensor, Generator) throws -> Tensor)
    }

    public var imageSteps: [ImageStep]
    public var tensorSteps: [TensorStep]

    public init(imageSteps: [ImageStep], tensorSteps: [TensorStep] = []) {
        self.imageSteps = imageSteps
        self.tensorSteps = tensorSteps
    }

    /// torchvision's evaluation preprocessing: RGB, shorter side to `resize`, centre crop `size`,
    /// normalise (the same as ``Image/classificationTensor(resize:crop:filter:normalization:)``).
    public static func evaluation(size: Int = 224, resize: Int = 256,
                                  normalization: ImageNormalization = .imageNet) -> ImagePipeline {
        ImagePipeline(imageSteps: [.rgb, .resize(shorterSide: resize), .centerCrop(width: size, height: size)],
                      tensorSteps: [.normalize(normalization)])
    }

    /// Training augmentation: RGB, random resized crop to `size`, horizontal flip, optional colour
    /// jitter, normalise, then Gaussian noise in normalised units (σ 0.1 by default; nil for none).
    public static func training(size: Int = 224, scale: ClosedRange<Double> = 0.08...1.0,
                                flipProbability: Double = 0.5, colorJitter: ColorJitter? = nil,
                                normalization: ImageNormalization = .imageNet,
                                noise: GaussianNoise? = GaussianNoise(std: 0.1)) -> ImagePipeline {
        var steps: [ImageStep] = [.rgb, .randomResizedCrop(RandomResizedCrop(size: size, scale: scale)),
                                  .randomHorizontalFlip(RandomHorizontalFlip(probability: flipProbability))]
        if let colorJitter { steps.append(.colorJitter(colorJitter)) }
        var tensorSteps: [TensorStep] = [.normalize(normalization)]
        if let noise { tensorSteps.append(.gaussianNoise(noise)) }
        return ImagePipeline(imageSteps: steps, tensorSteps: tensorSteps)
    }

    /// The pipeline applied to `image`: `[C, H, W]` float32.
    public func apply(to image: Image, generator: Generator) throws -> Tensor {
        var image = image
        for step in imageSteps {
            switch step {
            case .rgb: image = image.rgb().to8Bit()
            case .grayscale: image = image.grayscale().to8Bit()
            case .resize(let side, let filter): image = image.resized(shorterSide: side, filter: filter)
            case .resizeTo(let w, let h, let filter): image = image.resized(width: w, height: h, filter: filter)
            case .centerCrop(let w, let h): image = image.centerCropped(width: w, height: h)
            case .randomResizedCrop(let crop): image = crop.apply(to: image, generator: generator)
            case .randomHorizontalFlip(let flip): image = flip.apply(to: image, generator: generator)
            case .colorJitter(let jitter):
                guard image.bitDepth == 8 else {
                    throw DataLoaderError(kind: .decode, reason: "colour jitter needs an 8-bit image; put .rgb or .grayscale before it")
                }
                image = jitter.apply(to: image, generator: generator)
            case .custom(let body): image = try body(image, generator)
            }
        }
        var x = image.tensor()  // [C, H, W]
        for step in tensorSteps {
            switch step {
            case .normalize(let n):
                guard n.mean.count == x.shape[0] else {
                    throw DataLoaderError(kind: .decode,
                                          reason: "normalisation has \(n.mean.count) channels, the image \(x.shape[0]); put .rgb or .grayscale first")
                }
                x = x.normalizedChannels(n)
            case .gaussianNoise(let noise): x = noise.apply(to: x, generator: generator)
            case .custom(let body): x = try body(x, generator)
            }
        }
        return x
    }
}
