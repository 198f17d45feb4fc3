import Foundation
import OmniTensor

/// PNG or JPEG files through an ``ImagePipeline`` to `[C, H, W]` float32. Height and width may
/// vary between samples (padded bottom and right with ``padValue``, masked); channels may not.
///
/// ```swift
/// let image = ImageDecoder(pipeline: .training(size: 224))
/// ```
public struct ImageDecoder: ModalityDecoder {
    public let variableAxes = [1, 2]
    public let padValue: Double
    public let pipeline: ImagePipeline

    public init(pipeline: ImagePipeline = .evaluation(), padValue: Double = 0) {
        self.pipeline = pipeline
        self.padValue = padValue
    }

    public func decode(_ input: DecoderInput, context: DecodeContext) throws -> Tensor {
        guard case .file(let url) = input else {
            throw DataLoaderError(kind: .decode, reason: "an image must be a file path, got inline text")
        }
        let image = try Image(contentsOfFile: url.path)
        return try pipeline.apply(to: image, generator: context.generator)
    }
}
