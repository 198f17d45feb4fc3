import COmniKernels

extension Tensor {
    /// 2-D convolution (cross-correlation, as PyTorch's `F.conv2d`) computed by oneDNN.
    ///
    /// - Parameters:
    ///   - weight: `[O, C/groups, KH, KW]`.
    ///   - bias: `[O]`, added to every output position.
    ///   - stride: step of the window along (height, width).
    ///   - padding: zeros added on both sides of each spatial axis.
    ///   - dilation: spacing between kernel taps (1 = dense).
    ///   - groups: splits the channels into `groups` independent convolutions; `groups == C`
    ///     with `O == C · m` is a depthwise convolution.
    /// - Returns: `[N, O, OH, OW]` with `OH = (H + 2·padH − dilH·(KH − 1) − 1) / strideH + 1`
    ///   (rounded down), likewise for `OW`. An unbatched `[C, H, W]` input gives `[O, OH, OW]`.
    ///
    /// ```swift
    /// let x = Tensor.normal([8, 3, 32, 32], generator: g)        // [N, C, H, W]
    /// let w = Tensor.normal([16, 3, 3, 3], std: 0.1, generator: g)
    /// let y = x.conv2d(weight: w, stride: 2, padding: 1)          // [8, 16, 16, 16]
    /// ```
    ///
    /// Gradients flow to the input, the weight and the bias through one rule (oneDNN's backward
    /// kernels).
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: IntOrPair = 1, padding: IntOrPair = 0,
                       dilation: IntOrPair = 1, groups: Int = 1) -> Tensor {
        if rank == 3 {
            return unsqueezed(axis: 0)
                .conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
                .squeezed(axis: 0)
        }
        requireFloat32("conv2d"); weight.requireFloat32("conv2d"); bias?.requireFloat32("conv2d")
        let outSize = Tensor.convolutionOutputSize(op: "conv2d", input: shape, weight: weight.shape, bias: bias?.shape,
                                                   stride: stride.pair, padding: padding.pair,
                                                   dilation: dilation.pair, groups: groups)
        return Tensor.convolution2d(self, weight, bias, outSize: outSize, stride: stride.pair, padding: padding.pair,
                                    dilation: dilation.pair, groups: groups)
    }

    /// 1-D convolution (PyTorch's `F.conv1d`): input `[N, C, L]` (or unbatched `[C, L]`), weight
    /// `[O, C/groups, K]`, bias `[O]` → `[N, O, (L + 2·padding − dilation·(K − 1) − 1) / stride + 1]`.
    ///
    /// Runs as a 2-D convolution of height 1, so it shares its kernels and gradients.
    ///
    /// ```swift
    /// let y = signal.conv1d(weight: w, stride: 2, padding: 3)   // [B, 6, 1000] -> [B, O, 500]
    /// ```
    public func conv1d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                       dilation: Int = 1, groups: Int = 1) -> Tensor {
        if rank == 2 {
            return unsqueezed(axis: 0)
                .conv1d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
                .squeezed(axis: 0)
        }
        requireFloat32("conv1d"); weight.requireFloat32("conv1d"); bias?.requireFloat32("conv1d")
        // Validated here so that messages name the 1-D shapes the caller passed.
        _ = Tensor.convolutionOutputSize(op: "conv1d", input: shape, weight: weight.shape, bias: bias?.shape,
                                         stride: [stride], padding: [padding], dilation: [dilation], groups: groups)
        return unsqueezed(axis: 2)
            .conv2d(weight: weight.unsqueezed(axis: 2), bias: bias, stride: IntOrPair(1, stride),
                    padding: IntOrPair(0, padding), dilation: IntOrPair(1, dilation), groups: groups)
            .squeezed(axis: 2)
    }

    /// Checks the operands of a convolution with `stride.count` spatial axes and returns the output's
    /// spatial sizes; messages name the shapes in the caller's terms.
    static func convolutionOutputSize(op: String, input: [Int], weight: [Int], bias: [Int]?, stride: [Int],
                                      padding: [Int], dilation: [Int], groups: Int) -> [Int] {
        let d = stride.count
        let layout = d == 2 ? "[N, C, H, W] (or unbatched [C, H, W])" : "[N, C, L] (or unbatched [C, L])"
        let weightLayout = d == 2 ? "[O, C/groups, KH, KW]" : "[O, C/groups, K]"
        check(input.count == d + 2, op, "input must be \(layout), got \(fmt(input))")
        check(weight.count == d + 2, op, "weight must be \(weightLayout), got \(fmt(weight))")
        check(groups >= 1, op, "groups must be at least 1, got \(groups)")
        let channels = input[1], outChannels = weight[0]
        check(channels % groups == 0, op,
              "input channels \(channels) of input \(fmt(input)) are not divisible by groups = \(groups)")
        check(outChannels % groups == 0, op,
              "output channels \(outChannels) of weight \(fmt(weight)) are not divisible by groups = \(groups)")
        check(weight[1] * groups == channels, op,
              "weight \(fmt(weight)) takes \(weight[1]) channels per group × \(groups) groups = \(weight[1] * groups) input channels, but input \(fmt(input)) has \(channels)")
        if let bias {
            check(bias == [outChannels], op, "bias \(fmt(bias)) must be [\(outChannels)] for weight \(fmt(weight))")
        }
        check(stride.allSatisfy { $0 >= 1 }, op, "stride \(fmt(stride)) must be at least 1")
        check(padding.allSatisfy { $0 >= 0 }, op, "padding \(fmt(padding)) must not be negative")
        check(dilation.allSatisfy { $0 >= 1 }, op, "dilation \(fmt(dilation)) must be at least 1")
        let kernel = Array(weight[2...])
        check(kernel.allSatisfy { $0 >= 1 }, op, "kernel size \(fmt(kernel)) of weight \(fmt(weight)) must be at least 1")
        return (0..<d).map { i in
            let span = dilation[i] * (kernel[i] - 1) + 1
            let padded = input[2 + i] + 2 * padding[i]
            check(span <= padded, op,
                  "kernel \(fmt(kernel)) with dilation \(fmt(dilation)) spans \(span) on spatial axis \(i), more than the padded input size \(padded) (input \(fmt(input)), padding \(fmt(padding)))")
            return (padded - span) / stride[i] + 1
        }
    }

    /// The validated 2-D convolution: oneDNN forward, one gradient rule for input, weight and bias.
    private static func convolution2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, outSize: [Int], stride: [Int],
                                      padding: [Int], dilation: [Int], groups: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let (oh, ow) = (outSize[0], outSize[1])
        var desc = omni_conv2d_shape(
            n: Int64(n), c: Int64(c), h: Int64(h), w: Int64(w), oc: Int64(o), kh: Int64(kh), kw: Int64(kw),
            oh: Int64(oh), ow: Int64(ow), groups: Int64(groups),
            stride_h: Int64(stride[0]), stride_w: Int64(stride[1]), pad_h: Int64(padding[0]), pad_w: Int64(padding[1]),
            dil_h: Int64(dilation[0]), dil_w: Int64(dilation[1]))
        // Empty channels or spatial axes leave nothing to convolve: the output is the bias alone.
        let empty = [n, c, h, w, o].contains(0)
        let xd = x.detached().contiguous(), wd = weight.detached().contiguous()
        let bd = bias?.detached().contiguous()
        let what = "input \(fmt(x.shape)), weight \(fmt(weight.shape))"

        var out: Tensor  // [N, O, OH, OW]
        if empty {
            out = Tensor.zeros([n, o, oh, ow])
            if let bd { out = binaryRaw(.add, out, bd.reshaped([1, o, 1, 1]), name: "conv2d") }
        } else {
            out = Tensor(uninitializedShape: [n, o, oh, ow])
            let rc = omni_conv2d_forward(&desc, xd.floatPointer, wd.floatPointer,
                                         bd.map { UnsafePointer($0.floatPointer) }, out.floatPointer)
            check(rc == 0, "conv2d", "\(String(cString: omni_dnnl_last_error())) for \(what)")
        }

        let needX = x.requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
        var inputs = [x, weight]
        if let bias { inputs.append(bias) }
        return record(out, op: "conv2d", inputs: inputs) { g in
            var d = desc
            let gc = g.contiguous()  // [N, O, OH, OW]
            var gx: Tensor? = nil, gw: Tensor? = nil, gb: Tensor? = nil
            if needX {
                if empty { gx = Tensor.zeros(xd.shape) } else {
                    let t = Tensor(uninitializedShape: xd.shape)
                    let rc = omni_conv2d_backward_data(&d, wd.floatPointer, gc.floatPointer, t.floatPointer)
                    check(rc == 0, "conv2d", "backward (input): \(String(cString: omni_dnnl_last_error())) for \(what)")
                    gx = t
                }
            }
            if needW {
                if empty { gw = Tensor.zeros(wd.shape) } else {
                    let t = Tensor(uninitializedShape: wd.shape)
                    let b = needB ? Tensor(uninitializedShape: [o]) : nil
                    let rc = omni_conv2d_backward_weights(&d, xd.floatPointer, gc.floatPointer, t.floatPointer,
                                                          b?.floatPointer)
                    check(rc == 0, "conv2d", "backward (weight): \(String(cString: omni_dnnl_last_error())) for \(what)")
                    gw = t
                    gb = b
                }
            }
            if needB && gb == nil { gb = gc.sum(axes: [0, 2, 3]) }
            return bias == nil ? [gx, gw] : [gx, gw, gb]
        }
    }
}
