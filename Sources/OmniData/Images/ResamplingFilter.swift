import COmniKernels

/// The interpolation filter of ``Image/resized(width:height:filter:)``, as Pillow's `Image.Resampling`.
///
/// Every filter antialiases when shrinking: its support is widened by the downscale factor, as in
/// Pillow (and torchvision on PIL images, or on tensors with `antialias=True`).
public enum ResamplingFilter: Sendable, Equatable, CaseIterable {
    /// Each output pixel averages the input pixels under it (Pillow's `BOX`).
    case box
    /// Triangle filter, support 1 (Pillow's `BILINEAR`; torchvision's default).
    case bilinear
    /// Keys' cubic convolution with a = -0.5, support 2 (Pillow's `BICUBIC`).
    case bicubic

    var code: Int32 {
        switch self {
        case .box: return Int32(OMNI_RESAMPLE_BOX)
        case .bilinear: return Int32(OMNI_RESAMPLE_BILINEAR)
        case .bicubic: return Int32(OMNI_RESAMPLE_BICUBIC)
        }
    }
}
