extension Tensor {
    /// Inverted dropout (PyTorch's `F.dropout`): in training, each element is zeroed with
    /// probability `p` and the survivors are scaled by `1 / (1 − p)`, so the expected value is
    /// unchanged and inference needs no rescaling.
    ///
    /// Returns self when `training` is false or `p` is 0, and zeros (times the input, so NaN stays
    /// NaN as in PyTorch) when `p` is 1. The mask is drawn from `generator` in C order of the
    /// logical shape: the same generator state gives the same mask for any memory layout.
    /// Gradients flow through the same mask.
    ///
    /// ```swift
    /// let g = Generator(seed: 0)
    /// let h = x.dropout(p: 0.1, training: true, generator: g)
    /// ```
    public func dropout(p: Float, training: Bool = true, generator: Generator) -> Tensor {
        requireFloat32("dropout")
        check(p >= 0 && p <= 1, "dropout", "probability p must be in [0, 1], got \(p) (input \(fmt(shape)))")
        if !training || p == 0 { return self }
        if p == 1 { return self * Tensor.zeros([]) }
        let keep = 1 - p
        let mask = Tensor.bernoulli(shape, p: keep, generator: generator).unaryRaw(.affine, 1 / keep, 0)
        return self * mask
    }
}
