import COmniKernels

extension Tensor {
    // MARK: Layer norm

    /// Layer normalisation over trailing axes that must equal `normalizedShape` (PyTorch's
    /// `F.layer_norm`): `(x − mean) / sqrt(var + eps) · weight + bias`, with the biased variance.
    ///
    /// ```swift
    /// let y = h.layerNorm(normalizedShape: [768], weight: gamma, bias: beta)   // h: [B, T, 768]
    /// ```
    public func layerNorm(normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil,
                          eps: Float = 1e-5) -> Tensor {
        check(!normalizedShape.isEmpty && normalizedShape.count <= rank
              && Array(shape.suffix(normalizedShape.count)) == normalizedShape, "layerNorm",
              "normalized shape \(fmt(normalizedShape)) does not match the trailing axes of input \(fmt(shape))")
        return layerNorm(axisCount: normalizedShape.count, weight: weight, bias: bias, eps: eps)
    }

    /// Layer normalisation over the last `axisCount` axes (by default as many as `weight` or
    /// `bias` has, else 1). `weight` and `bias`, when given, have the shape of those axes.
    ///
    /// Runs as one fused kernel; the gradient for input, weight and bias is one rule using the
    /// saved per-row mean and 1/σ.
    ///
    /// ```swift
    /// let y = x.layerNorm(weight: gamma, bias: beta)   // x: [B, T, D], gamma/beta: [D]
    /// ```
    public func layerNorm(axisCount: Int? = nil, weight: Tensor? = nil, bias: Tensor? = nil,
                          eps: Float = 1e-5) -> Tensor {
        normalizedRows(rms: false, op: "layerNorm", axisCount: axisCount, weight: weight, bias: bias, eps: eps)
    }

    // MARK: RMS norm

    /// Root-mean-square normalisation over the last `axisCount` axes (by default `weight`'s rank,
    /// else 1): `x / sqrt(mean(x²) + eps) · weight`.
    ///
    /// `eps` defaults to 1e-6 as in Llama-style checkpoints (PyTorch's `nn.RMSNorm` defaults to
    /// float32's machine epsilon); pass the checkpoint's value.
    ///
    /// ```swift
    /// let y = h.rmsNorm(weight: gamma, eps: 1e-5)   // h: [B, T, D], gamma: [D]
    /// ```
    public func rmsNorm(axisCount: Int? = nil, weight: Tensor? = nil, eps: Float = 1e-6) -> Tensor {
        normalizedRows(rms: true, op: "rmsNorm", axisCount: axisCount, weight: weight, bias: nil, eps: eps)
    }

    /// Layer or RMS norm over rows of the trailing axes with `omni_norm_rows_f32`, and its one rule.
    private func normalizedRows(rms: Bool, op: String, axisCount: Int?, weight: Tensor?, bias: Tensor?,
                                eps: Float) -> Tensor {
        requireFloat32(op); weight?.requireFloat32(op); bias?.requireFloat32(op)
        let k = axisCount ?? weight?.rank ?? bias?.rank ?? 1
        check(k >= 1 && k <= rank, op, "cannot normalise the last \(k) axes of input \(fmt(shape))")
        let normShape = Array(shape.suffix(k))
        if let weight {
            check(weight.shape == normShape, op,
                  "weight \(fmt(weight.shape)) must have the normalized shape \(fmt(normShape)) of input \(fmt(shape))")
        }
        if let bias {
            check(bias.shape == normShape, op,
                  "bias \(fmt(bias.shape)) must have the normalized shape \(fmt(normShape)) of input \(fmt(shape))")
        }
        check(eps >= 0, op, "eps must not be negative, got \(eps)")
        let n = normShape.reduce(1, *)
        let rows = shape.dropLast(k).reduce(1, *)

        let x = detached().contiguous().reshaped([rows, n])  // [R, n]
        let w = weight?.detached().contiguous().reshaped([n])
        let b = bias?.detached().contiguous().reshaped([n])
        let y = Tensor(uninitializedShape: [rows, n])
        let mean = Tensor.zeros([rows, 1]), rstd = Tensor.zeros([rows, 1])
        if y.count > 0 {
            omni_norm_rows_f32(rms ? 1 : 0, Int64(rows), Int64(n), x.floatPointer, w.map { UnsafePointer($0.floatPointer) },
                               b.map { UnsafePointer($0.floatPointer) }, eps, y.floatPointer, mean.floatPointer,
                               rstd.floatPointer)
        }

        let inShape = shape
        let needX = requiresGrad, needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let out = Tensor.record(y.reshaped(inShape), op: op, inputs: inputs) { g in
            let g2 = g.reshaped([rows, n])
            let xhat = rms ? x * rstd : (x - mean) * rstd  // [R, n]
            var grads: [Tensor?] = []
            if needX {
                // dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)); RMS norm has no mean term.
                let dxhat = w.map { g2 * $0 } ?? g2
                var inner = dxhat - xhat * (dxhat * xhat).mean(axes: [1], keepDims: true)
                if !rms { inner = inner - dxhat.mean(axes: [1], keepDims: true) }
                grads.append((inner * rstd).reshaped(inShape))
            } else {
                grads.append(nil)
            }
            if weight != nil { grads.append(needW ? (g2 * xhat).sum(axes: [0]).reshaped(normShape) : nil) }
            if bias != nil { grads.append(needB ? g2.sum(axes: [0]).reshaped(normShape) : nil) }
            return grads
        }
        return out
    }

    // MARK: Batch norm

    /// Batch normalisation of `[N, C]`, `[N, C, L]` or `[N, C, H, W]` (any rank ≥ 2) over every
    /// axis but the channel axis 1, as PyTorch's `F.batch_norm`.
    ///
    /// - In training mode it normalises with the batch's mean and biased variance, and returns the
    ///   running statistics updated as `new = (1 − momentum) · old + momentum · batch`, using the
    ///   unbiased batch variance (momentum nil: a cumulative average over `batchesTracked + 1`
    ///   batches). Without running statistics (`statistics: nil`) only the output is computed.
    /// - In inference mode it normalises with the running statistics and returns them unchanged.
    ///
    /// A batch without elements gives an empty output and leaves the statistics unchanged.
    /// Gradients flow to the input, weight and bias (never into the statistics).
    ///
    /// ```swift
    /// var stats = BatchNormStatistics(channels: 16)
    /// let (y, updated) = x.batchNorm(statistics: stats, weight: gamma, bias: beta, training: true)
    /// stats = updated!
    /// let z = x.batchNorm(statistics: stats, weight: gamma, bias: beta, training: false).output
    /// ```
    public func batchNorm(statistics: BatchNormStatistics?, weight: Tensor? = nil, bias: Tensor? = nil,
                          training: Bool, momentum: Float? = 0.1,
                          eps: Float = 1e-5) -> (output: Tensor, statistics: BatchNormStatistics?) {
        requireFloat32("batchNorm"); weight?.requireFloat32("batchNorm"); bias?.requireFloat32("batchNorm")
        check(rank >= 2, "batchNorm", "input must be [N, C, ...], got \(fmt(shape))")
        let channels = shape[1]
        let perChannel = [1, channels] + [Int](repeating: 1, count: rank - 2)  // broadcasts over [N, C, ...]
        if let weight { check(weight.shape == [channels], "batchNorm", "weight \(fmt(weight.shape)) must be [\(channels)] for input \(fmt(shape))") }
        if let bias { check(bias.shape == [channels], "batchNorm", "bias \(fmt(bias.shape)) must be [\(channels)] for input \(fmt(shape))") }
        if let statistics {
            check(statistics.channels == channels, "batchNorm",
                  "running statistics of \(statistics.channels) channels for input \(fmt(shape)) with \(channels)")
        }
        if let momentum { check(momentum >= 0 && momentum <= 1, "batchNorm", "momentum must be in [0, 1], got \(momentum)") }
        check(eps >= 0, "batchNorm", "eps must not be negative, got \(eps)")

        func affine(_ t: Tensor) -> Tensor {
            var r = t
            if let weight { r = r * weight.reshaped(perChannel) }
            if let bias { r = r + bias.reshaped(perChannel) }
            return r
        }

        guard training else {
            check(statistics != nil, "batchNorm", "inference mode needs running statistics (input \(fmt(shape)))")
            let statistics = statistics!
            let scale = (statistics.variance.reshaped(perChannel) + eps).rsqrt()
            return (affine((self - statistics.mean.reshaped(perChannel)) * scale), statistics)
        }
        if count == 0 { return (affine(self), statistics) }
        let axes = [0] + Array(2..<rank)
        let m = count / channels  // values per channel
        check(m > 1, "batchNorm", "training needs more than one value per channel, got input \(fmt(shape))")
        let mean = self.mean(axes: axes, keepDims: true)  // [1, C, 1, ...]
        let centered = self - mean
        let variance = centered.square().mean(axes: axes, keepDims: true)  // biased
        let output = affine(centered * (variance + eps).rsqrt())

        guard let statistics else { return (output, nil) }
        let updated = GradMode.withoutGrad {
            let factor = momentum ?? 1 / Float(statistics.batchesTracked + 1)
            let unbiased = variance.detached().reshaped([channels]) * (Float(m) / Float(m - 1))
            return BatchNormStatistics(
                mean: statistics.mean * (1 - factor) + mean.detached().reshaped([channels]) * factor,
                variance: statistics.variance * (1 - factor) + unbiased * factor,
                batchesTracked: statistics.batchesTracked + 1)
        }
        return (output, updated)
    }
}
