// How a decoded image becomes the input of an ``ImageEncoder``: one place, so that training,
// evaluation, serving and explanations feed the encoder the same numbers.
//
// ViT and Swin models trained here from scratch see images squashed to a square of the
// configured side (aspect ratio not kept: the whole picture stays visible, and each patch token
// covers the same share of the image whatever its shape) with every channel mapped from [0, 1] to
// [−1, 1] (mean 0.5, std 0.5). MobileNetV2 keeps the ImageNet statistics its pretrained
// torchvision weights were trained with.
import OmniData
import OmniTensor

/// Turns an ``OmniData/Image`` into the float32 [3, side, side] tensor an ``ImageEncoder`` reads.
///
/// ```swift
/// let image = try Image(contentsOfFile: "scene.png")
/// let x = ImagePreprocessing.modelInput(image, side: 64)                    // [3, 64, 64] in [−1, 1]
/// let y = ImagePreprocessing.modelInput(image, for: model.configuration.image!)
/// let tokens = model.imageEncoder!(ImageBatch(images: [x]))
/// ```
public enum ImagePreprocessing {
    /// Mean 0.5 and std 0.5 per channel: [0, 1] samples become [−1, 1].
    public static let normalization = ImageNormalization(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])

    /// RGB (gray replicated, alpha dropped, 16-bit reduced to 8), resized to `side`×`side` with
    /// Pillow's antialiased bilinear filter (``OmniData/Image/resized(width:height:filter:)``),
    /// scaled to [0, 1] and normalised per channel: [3, side, side].
    public static func modelInput(_ image: Image, side: Int,
                                  normalization: ImageNormalization = ImagePreprocessing.normalization) -> Tensor {
        precondition(side > 0, "ImagePreprocessing.modelInput: side must be positive, got \(side)")
        return image.rgb().to8Bit()
            .resized(width: side, height: side, filter: .bilinear)
            .tensor()                                   // [3, side, side] in [0, 1]
            .normalizedChannels(normalization)
    }

    /// ``modelInput(_:side:normalization:)`` with the side and normalisation the encoder expects
    /// (``side(for:)``, ``normalization(for:)``).
    public static func modelInput(_ image: Image, for configuration: ImageEncoderConfiguration) -> Tensor {
        modelInput(image, side: side(for: configuration), normalization: normalization(for: configuration))
    }

    /// The square side images are resized to: a ViT's `imageSize` rounded down to whole patches
    /// (so every pixel lies in a patch), 224 for Swin and MobileNetV2.
    public static func side(for configuration: ImageEncoderConfiguration) -> Int {
        switch configuration.backbone {
        case .vit(let c): return max(c.imageSize / c.patchSize, 1) * c.patchSize
        case .swin, .mobileNetV2: return 224
        }
    }

    /// ``normalization`` for ViT and Swin; ImageNet's statistics for MobileNetV2.
    public static func normalization(for configuration: ImageEncoderConfiguration) -> ImageNormalization {
        switch configuration.backbone {
        case .vit, .swin: return normalization
        case .mobileNetV2: return .imageNet
        }
    }
}
