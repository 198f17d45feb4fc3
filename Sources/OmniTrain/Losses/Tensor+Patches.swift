import OmniTensor

extension Tensor {
    /// Images [B, C, H, W] cut into non-overlapping `patchSize`² patches, flattened in MAE's
    /// order: [B, N, p·p·C] with N = (H/p)·(W/p) in row-major patch order and each patch's values
    /// in (row, column, channel) order (He et al.'s `patchify`, `nchpwq → nhwpqc`).
    ///
    /// ```swift
    /// let patches = images.patchified(patchSize: 16)   // [B, 196, 768] for 224×224 RGB
    /// ```
    public func patchified(patchSize p: Int) -> Tensor {
        precondition(rank == 4, "patchified: images must be [B, C, H, W], got \(shape)")
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        precondition(p > 0 && h % p == 0 && w % p == 0, "patchified: patch size \(p) does not divide the image size \(h)×\(w)")
        return reshaped([b, c, h / p, p, w / p, p])          // [B, C, h, p, w, q]
            .permuted([0, 2, 4, 3, 5, 1])                    // [B, h, w, p, q, C]
            .reshaped([b, (h / p) * (w / p), p * p * c])     // [B, N, p·p·C]
    }

    /// The inverse of ``patchified(patchSize:)``: patches [B, N, p·p·C] back to images
    /// [B, C, height, width].
    public func unpatchified(patchSize p: Int, height: Int, width: Int) -> Tensor {
        precondition(rank == 3, "unpatchified: patches must be [B, N, p·p·C], got \(shape)")
        precondition(p > 0 && height % p == 0 && width % p == 0, "unpatchified: patch size \(p) does not divide \(height)×\(width)")
        let (b, h, w) = (shape[0], height / p, width / p)
        precondition(shape[1] == h * w && shape[2] % (p * p) == 0,
                     "unpatchified: \(shape) does not hold \(h)×\(w) patches of \(p)×\(p) pixels")
        let c = shape[2] / (p * p)
        return reshaped([b, h, w, p, p, c])                  // [B, h, w, p, q, C]
            .permuted([0, 5, 1, 3, 2, 4])                    // [B, C, h, p, w, q]
            .reshaped([b, c, height, width])
    }
}
