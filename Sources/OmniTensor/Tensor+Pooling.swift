import COmniKernels

/// Which pooling the shared 2-D path runs.
private enum PoolKind {
    case max
    case average(countIncludePad: Bool)
    case adaptiveAverage
}

extension Tensor {
    // MARK: 2-D

    /// Max pooling over windows of `[N, C, H, W]` (or unbatched `[C, H, W]`), as PyTorch's
    /// `F.max_pool2d` in floor mode: padding counts as −∞, NaN propagates, and the gradient goes
    /// to the first maximum of each window.
    ///
    /// - Parameters:
    ///   - kernel: window size (height, width).
    ///   - stride: window step; defaults to `kernel`.
    ///   - padding: at most half the kernel on each axis.
    ///   - dilation: spacing between window taps (1 = dense).
    /// - Returns: `[N, C, OH, OW]`, `OH = (H + 2·padH − dilH·(KH − 1) − 1) / strideH + 1`.
    ///
    /// ```swift
    /// let y = x.maxPool2d(kernel: 3, stride: 2, padding: 1)   // [8, 64, 56, 56] -> [8, 64, 28, 28]
    /// ```
    public func maxPool2d(kernel: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0,
                          dilation: IntOrPair = 1) -> Tensor {
        requireFloat32("maxPool2d")
        let st = (stride ?? kernel).pair
        let out = Tensor.poolOutputSize(op: "maxPool2d", input: shape, kernel: kernel.pair, stride: st,
                                        padding: padding.pair, dilation: dilation.pair)
        return pooled2d(.max, "maxPool2d", kernel: kernel.pair, stride: st, padding: padding.pair,
                        dilation: dilation.pair, outSize: out)
    }

    /// Average pooling over windows of `[N, C, H, W]` (or `[C, H, W]`), as PyTorch's
    /// `F.avg_pool2d` in floor mode.
    ///
    /// - Parameters:
    ///   - kernel: window size (height, width).
    ///   - stride: window step; defaults to `kernel`.
    ///   - padding: zeros on both sides, at most half the kernel.
    ///   - countIncludePad: whether padded positions count in each window's divisor.
    ///
    /// ```swift
    /// let y = x.avgPool2d(kernel: 2)   // [N, C, 32, 32] -> [N, C, 16, 16]
    /// ```
    public func avgPool2d(kernel: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0,
                          countIncludePad: Bool = true) -> Tensor {
        requireFloat32("avgPool2d")
        let st = (stride ?? kernel).pair
        let out = Tensor.poolOutputSize(op: "avgPool2d", input: shape, kernel: kernel.pair, stride: st,
                                        padding: padding.pair, dilation: [1, 1])
        return pooled2d(.average(countIncludePad: countIncludePad), "avgPool2d", kernel: kernel.pair, stride: st,
                        padding: padding.pair, dilation: [1, 1], outSize: out)
    }

    /// Adaptive average pooling of `[N, C, H, W]` (or `[C, H, W]`) to `[N, C, outputSize]`: output
    /// cell `i` averages input rows `floor(i·H/OH) ..< ceil((i+1)·H/OH)`, likewise columns
    /// (PyTorch's `F.adaptive_avg_pool2d`).
    ///
    /// ```swift
    /// let pooled = features.adaptiveAvgPool2d(outputSize: 1)   // global average pool -> [N, C, 1, 1]
    /// ```
    public func adaptiveAvgPool2d(outputSize: IntOrPair) -> Tensor {
        requireFloat32("adaptiveAvgPool2d")
        Tensor.checkAdaptive(op: "adaptiveAvgPool2d", input: shape, outputSize: outputSize.pair)
        return pooled2d(.adaptiveAverage, "adaptiveAvgPool2d", kernel: [1, 1], stride: [1, 1], padding: [0, 0],
                        dilation: [1, 1], outSize: outputSize.pair)
    }

    // MARK: 1-D (2-D of height 1)

    /// Max pooling over `[N, C, L]` (or `[C, L]`), as PyTorch's `F.max_pool1d`; see ``maxPool2d(kernel:stride:padding:dilation:)``.
    public func maxPool1d(kernel: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1) -> Tensor {
        requireFloat32("maxPool1d")
        let st = stride ?? kernel
        _ = Tensor.poolOutputSize(op: "maxPool1d", input: shape, kernel: [kernel], stride: [st], padding: [padding],
                                  dilation: [dilation])
        return unsqueezed(axis: -2)
            .maxPool2d(kernel: IntOrPair(1, kernel), stride: IntOrPair(1, st), padding: IntOrPair(0, padding),
                       dilation: IntOrPair(1, dilation))
            .squeezed(axis: -2)
    }

    /// Average pooling over `[N, C, L]` (or `[C, L]`), as PyTorch's `F.avg_pool1d`; see
    /// ``avgPool2d(kernel:stride:padding:countIncludePad:)``.
    public func avgPool1d(kernel: Int, stride: Int? = nil, padding: Int = 0, countIncludePad: Bool = true) -> Tensor {
        requireFloat32("avgPool1d")
        let st = stride ?? kernel
        _ = Tensor.poolOutputSize(op: "avgPool1d", input: shape, kernel: [kernel], stride: [st], padding: [padding],
                                  dilation: [1])
        return unsqueezed(axis: -2)
            .avgPool2d(kernel: IntOrPair(1, kernel), stride: IntOrPair(1, st), padding: IntOrPair(0, padding),
                       countIncludePad: countIncludePad)
            .squeezed(axis: -2)
    }

    /// Adaptive average pooling of `[N, C, L]` (or `[C, L]`) to `[N, C, outputSize]`.
    public func adaptiveAvgPool1d(outputSize: Int) -> Tensor {
        requireFloat32("adaptiveAvgPool1d")
        Tensor.checkAdaptive(op: "adaptiveAvgPool1d", input: shape, outputSize: [outputSize])
        return unsqueezed(axis: -2).adaptiveAvgPool2d(outputSize: IntOrPair(1, outputSize)).squeezed(axis: -2)
    }

    // MARK: Shared path

    /// Checks a pooling window over `kernel.count` spatial axes and returns the output's spatial sizes.
    static func poolOutputSize(op: String, input: [Int], kernel: [Int], stride: [Int], padding: [Int],
                               dilation: [Int]) -> [Int] {
        let d = kernel.count
        let layout = d == 2 ? "[N, C, H, W] or [C, H, W]" : "[N, C, L] or [C, L]"
        check(input.count == d + 1 || input.count == d + 2, op, "input must be \(layout), got \(fmt(input))")
        check(kernel.allSatisfy { $0 >= 1 }, op, "kernel \(fmt(kernel)) must be at least 1")
        check(stride.allSatisfy { $0 >= 1 }, op, "stride \(fmt(stride)) must be at least 1")
        check(dilation.allSatisfy { $0 >= 1 }, op, "dilation \(fmt(dilation)) must be at least 1")
        check(padding.allSatisfy { $0 >= 0 }, op, "padding \(fmt(padding)) must not be negative")
        // PyTorch's limit: a window must never lie entirely in the padding.
        check(zip(padding, kernel).allSatisfy { $0 <= $1 / 2 }, op,
              "padding \(fmt(padding)) must be at most half of kernel \(fmt(kernel))")
        let spatial = Array(input.suffix(d))
        return (0..<d).map { i in
            let span = dilation[i] * (kernel[i] - 1) + 1
            let padded = spatial[i] + 2 * padding[i]
            check(span <= padded, op,
                  "kernel \(fmt(kernel)) with dilation \(fmt(dilation)) spans \(span) on spatial axis \(i), more than the padded input size \(padded) (input \(fmt(input)), padding \(fmt(padding)))")
            return (padded - span) / stride[i] + 1
        }
    }

    static func checkAdaptive(op: String, input: [Int], outputSize: [Int]) {
        let d = outputSize.count
        let layout = d == 2 ? "[N, C, H, W] or [C, H, W]" : "[N, C, L] or [C, L]"
        check(input.count == d + 1 || input.count == d + 2, op, "input must be \(layout), got \(fmt(input))")
        check(outputSize.allSatisfy { $0 >= 0 }, op, "output size \(fmt(outputSize)) must not be negative")
        check(input.suffix(d).allSatisfy { $0 > 0 }, op, "input \(fmt(input)) has an empty spatial axis")
    }

    /// Pools the last two axes of self (every leading axis is a plane) with the C kernels; one
    /// gradient rule, also in C.
    private func pooled2d(_ kind: PoolKind, _ op: String, kernel: [Int], stride: [Int], padding: [Int],
                          dilation: [Int], outSize: [Int]) -> Tensor {
        let lead = Array(shape[..<(rank - 2)])
        let (h, w) = (shape[rank - 2], shape[rank - 1])
        let planes = lead.reduce(1, *)
        var desc = omni_pool2d_shape(
            planes: Int64(planes), h: Int64(h), w: Int64(w), oh: Int64(outSize[0]), ow: Int64(outSize[1]),
            kh: Int64(kernel[0]), kw: Int64(kernel[1]), stride_h: Int64(stride[0]), stride_w: Int64(stride[1]),
            pad_h: Int64(padding[0]), pad_w: Int64(padding[1]), dil_h: Int64(dilation[0]), dil_w: Int64(dilation[1]))
        let x = detached().contiguous()  // [planes, H, W]
        let y = Tensor(uninitializedShape: lead + outSize)  // [planes, OH, OW]
        let empty = y.count == 0
        var indices: Tensor? = nil
        switch kind {
        case .max:
            let idx = Tensor(uninitializedShape: lead + outSize, dtype: .int64)
            if !empty {
                omni_max_pool2d_f32(&desc, x.floatPointer, y.floatPointer, idx.rawPointer.assumingMemoryBound(to: Int64.self))
            }
            indices = idx
        case .average(let includePad):
            if !empty { omni_avg_pool2d_f32(&desc, includePad ? 1 : 0, x.floatPointer, y.floatPointer) }
        case .adaptiveAverage:
            if !empty { omni_adaptive_avg_pool2d_f32(&desc, x.floatPointer, y.floatPointer) }
        }
        let inShape = shape
        return Tensor.record(y, op: op, inputs: [self]) { g in
            var d = desc
            let gc = g.contiguous()  // [planes, OH, OW]
            if empty { return [Tensor.zeros(inShape)] }
            let dx = Tensor(uninitializedShape: inShape)  // [planes, H, W]
            switch kind {
            case .max:
                omni_max_pool2d_backward_f32(&d, gc.floatPointer, indices!.rawPointer.assumingMemoryBound(to: Int64.self),
                                             dx.floatPointer)
            case .average(let includePad):
                omni_avg_pool2d_backward_f32(&d, includePad ? 1 : 0, gc.floatPointer, dx.floatPointer)
            case .adaptiveAverage:
                omni_adaptive_avg_pool2d_backward_f32(&d, gc.floatPointer, dx.floatPointer)
            }
            return [dx]
        }
    }
}
