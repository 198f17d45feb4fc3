import Foundation
import OmniTensor

/// A random region of random area and aspect ratio, resized to a fixed size (torchvision's
/// `RandomResizedCrop`), drawn from an explicit ``OmniTensor/Generator``.
///
/// torchvision's algorithm: up to 10 attempts, each drawing an area fraction from `scale` and a
/// log-uniform aspect ratio from `ratio`, with `w = round(sqrt(area * ratio))`,
/// `h = round(sqrt(area / ratio))` (round half to even); the first that fits is placed uniformly at
/// random. When none fits, the centre crop of the whole image clamped to `ratio` is used.
///
/// ```swift
/// let crop = RandomResizedCrop(width: 224, height: 224)
/// let sample = crop.apply(to: image, generator: generator)
/// ```
public struct RandomResizedCrop: Sendable, Equatable {
    /// Output width.
    public let width: Int
    /// Output height.
    public let height: Int
    /// Range of the crop's area as a fraction of the image's.
    public let scale: ClosedRange<Double>
    /// Range of the crop's aspect ratio (width / height), sampled log-uniformly.
    public let ratio: ClosedRange<Double>
    /// The filter resizing the crop to the output size.
    public let filter: ResamplingFilter

    /// A `width` x `height` output from crops of `scale` area and `ratio` aspect (torchvision's defaults).
    public init(width: Int, height: Int, scale: ClosedRange<Double> = 0.08...1.0,
                ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0), filter: ResamplingFilter = .bilinear) {
        imageCheck(width > 0 && height > 0, "RandomResizedCrop", "size must be positive, got \(width)x\(height)")
        imageCheck(scale.lowerBound > 0, "RandomResizedCrop", "scale must be positive, got \(scale)")
        imageCheck(ratio.lowerBound > 0, "RandomResizedCrop", "ratio must be positive, got \(ratio)")
        self.width = width
        self.height = height
        self.scale = scale
        self.ratio = ratio
        self.filter = filter
    }

    /// A square output of side `size`.
    public init(size: Int, scale: ClosedRange<Double> = 0.08...1.0,
                ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0), filter: ResamplingFilter = .bilinear) {
        self.init(width: size, height: size, scale: scale, ratio: ratio, filter: filter)
    }

    /// The region (top-left corner and size) chosen for an image of `imageWidth` x `imageHeight`.
    public func region(imageWidth: Int, imageHeight: Int, generator: Generator)
        -> (x: Int, y: Int, width: Int, height: Int) {
        let area = Double(imageWidth * imageHeight)
        let logLow = Foundation.log(ratio.lowerBound), logHigh = Foundation.log(ratio.upperBound)
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * generator.nextDouble())
            let aspect = Foundation.exp(logLow + (logHigh - logLow) * generator.nextDouble())
            let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= imageWidth && h > 0 && h <= imageHeight {
                let y = generator.nextInt(below: imageHeight - h + 1)
                let x = generator.nextInt(below: imageWidth - w + 1)
                return (x, y, w, h)
            }
        }
        let inRatio = Double(imageWidth) / Double(imageHeight)
        var w = imageWidth, h = imageHeight
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return ((imageWidth - w) / 2, (imageHeight - h) / 2, w, h)
    }

    /// A random crop of `image`, resized to `width` x `height`.
    public func apply(to image: Image, generator: Generator) -> Image {
        let r = region(imageWidth: image.width, imageHeight: image.height, generator: generator)
        return image.cropped(x: r.x, y: r.y, width: r.width, height: r.height)
            .resized(width: width, height: height, filter: filter)
    }
}
