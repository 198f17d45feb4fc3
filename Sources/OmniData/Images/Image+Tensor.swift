import COmniKernels
import OmniTensor

extension Image {
    /// The image as a float32 tensor `[channels, height, width]` with values in [0, 1]:
    /// torchvision's `ToTensor` (sample / 255 in float32; 16-bit samples / 65535).
    public func tensor() -> Tensor {
        var out = [Float](repeating: 0, count: width * height * channels)
        out.withUnsafeMutableBufferPointer { d in
            switch pixels {
            case .uint8(let p):
                p.withUnsafeBytes { s in
                    omni_image_to_chw_f32(8, s.baseAddress, Int64(height), Int64(width), Int64(channels), d.baseAddress)
                }
            case .uint16(let p):
                p.withUnsafeBytes { s in
                    omni_image_to_chw_f32(16, s.baseAddress, Int64(height), Int64(width), Int64(channels), d.baseAddress)
                }
            }
        }
        return Tensor(out, shape: [channels, height, width])  // [C, H, W]
    }

    /// torchvision's classification preprocessing for ImageNet-style weights: RGB, `Resize(resize)`
    /// (shorter side), `CenterCrop(crop)`, `ToTensor()`, `Normalize(mean, std)`. Returns
    /// `[3, crop, crop]`; add a batch axis with `unsqueezed(axis: 0)` for a model.
    ///
    /// ```swift
    /// let x = try Image(contentsOfFile: "chelsea.png").classificationTensor()   // [3, 224, 224]
    /// ```
    public func classificationTensor(resize: Int = 256, crop: Int = 224, filter: ResamplingFilter = .bilinear,
                                     normalization: ImageNormalization = .imageNet) -> Tensor {
        rgb().to8Bit().resized(shorterSide: resize, filter: filter)
            .centerCropped(width: crop, height: crop)
            .tensor()
            .normalizedChannels(normalization)
    }
}

extension Tensor {
    /// `(x - mean[c]) / std[c]` per channel of a `[C, H, W]` or `[N, C, H, W]` tensor, in float32 in
    /// that order (torchvision's `Normalize`), so results match PyTorch's bit for bit.
    ///
    /// ```swift
    /// let x = image.tensor().normalizedChannels(.imageNet)
    /// ```
    public func normalizedChannels(_ normalization: ImageNormalization) -> Tensor {
        let c = normalization.mean.count
        imageCheck(rank == 3 || rank == 4, "normalizedChannels",
                   "needs a [C, H, W] or [N, C, H, W] tensor, got shape \(shape)")
        imageCheck(shape[rank - 3] == c, "normalizedChannels",
                   "tensor of shape \(shape) has \(shape[rank - 3]) channels; mean/std have \(c)")
        let mean = Tensor(normalization.mean, shape: [c, 1, 1])  // [C, 1, 1]
        let std = Tensor(normalization.std, shape: [c, 1, 1])
        return (self - mean) / std
    }
}
