import Testing
@testable import OmniTensor

/// A 2-D convolution case: input [N, C, H, W], weight [O, C/groups, KH, KW].
struct ConvCase: CustomStringConvertible, Sendable {
    var input: [Int]
    var outChannels: Int
    var kernel: (Int, Int)
    var stride: (Int, Int) = (1, 1)
    var padding: (Int, Int) = (0, 0)
    var dilation: (Int, Int) = (1, 1)
    var groups = 1
    var bias = true

    var weight: [Int] { [outChannels, input[1] / groups, kernel.0, kernel.1] }
    var description: String {
        "input \(input) weight \(weight) stride \(stride) padding \(padding) dilation \(dilation) groups \(groups)"
    }
}

/// Direct-loop Float64 convolution (PyTorch semantics); returns values and shape [N, O, OH, OW].
func referenceConv2d(_ x: [Double], _ c: ConvCase, weight w: [Double], bias b: [Double]?) -> ([Double], [Int]) {
    let (n, ch, h, wd) = (c.input[0], c.input[1], c.input[2], c.input[3])
    let (o, kh, kw) = (c.outChannels, c.kernel.0, c.kernel.1)
    let cg = ch / c.groups, og = o / c.groups
    let oh = (h + 2 * c.padding.0 - c.dilation.0 * (kh - 1) - 1) / c.stride.0 + 1
    let ow = (wd + 2 * c.padding.1 - c.dilation.1 * (kw - 1) - 1) / c.stride.1 + 1
    var y = [Double](repeating: 0, count: n * o * oh * ow)
    for b0 in 0..<n {
        for oc in 0..<o {
            let g = oc / og
            for i in 0..<oh {
                for j in 0..<ow {
                    var s = b?[oc] ?? 0
                    for ci in 0..<cg {
                        let inC = g * cg + ci
                        for p in 0..<kh {
                            let hh = i * c.stride.0 - c.padding.0 + p * c.dilation.0
                            if hh < 0 || hh >= h { continue }
                            for q in 0..<kw {
                                let ww = j * c.stride.1 - c.padding.1 + q * c.dilation.1
                                if ww < 0 || ww >= wd { continue }
                                s += x[((b0 * ch + inC) * h + hh) * wd + ww] * w[((oc * cg + ci) * kh + p) * kw + q]
                            }
                        }
                    }
                    y[((b0 * o + oc) * oh + i) * ow + j] = s
                }
            }
        }
    }
    return (y, [n, o, oh, ow])
}

@Suite struct ConvolutionTests {
    static let cases: [ConvCase] = [
        ConvCase(input: [2, 4, 5, 5], outChannels: 6, kernel: (3, 3)),
        ConvCase(input: [2, 4, 5, 5], outChannels: 3, kernel: (3, 2), stride: (2, 1), padding: (1, 2)),
        ConvCase(input: [2, 4, 5, 5], outChannels: 2, kernel: (2, 2), stride: (2, 2)),  // floor drops a row/column
        ConvCase(input: [2, 4, 5, 6], outChannels: 4, kernel: (3, 3), padding: (2, 1), dilation: (2, 2)),
        ConvCase(input: [2, 4, 5, 5], outChannels: 2, kernel: (2, 3), stride: (1, 3), dilation: (3, 1), bias: false),
        ConvCase(input: [2, 4, 5, 5], outChannels: 6, kernel: (3, 3), padding: (1, 1), groups: 2),
        ConvCase(input: [2, 4, 5, 5], outChannels: 4, kernel: (3, 3), stride: (2, 2), padding: (1, 1), groups: 4),  // depthwise
        ConvCase(input: [2, 4, 5, 5], outChannels: 8, kernel: (3, 3), padding: (1, 1), dilation: (2, 1), groups: 4),  // depthwise ×2
        ConvCase(input: [1, 3, 4, 4], outChannels: 5, kernel: (1, 1)),
        ConvCase(input: [2, 2, 3, 3], outChannels: 3, kernel: (3, 3), stride: (3, 3)),  // 1×1 output
    ]

    func operands(_ c: ConvCase, seed: UInt64) -> (Tensor, Tensor, Tensor?) {
        let x = randomTensor(c.input, seed: seed)
        let w = randomTensor(c.weight, seed: seed + 100, low: -1, high: 1)
        let b = c.bias ? randomTensor([c.outChannels], seed: seed + 200) : nil
        return (x, w, b)
    }

    func conv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ c: ConvCase) -> Tensor {
        x.conv2d(weight: w, bias: b, stride: IntOrPair(c.stride), padding: IntOrPair(c.padding),
                 dilation: IntOrPair(c.dilation), groups: c.groups)
    }

    @Test(arguments: cases) func forwardMatchesReference(_ c: ConvCase) {
        for seed in testSeeds {
            let (x, w, b) = operands(c, seed: seed)
            let (expected, shape) = referenceConv2d(values(x), c, weight: values(w), bias: b.map(values))
            expectClose(conv(x, w, b, c), expected, shape: shape, "conv2d \(c) seed \(seed)")
            // strided views of input and weight
            expectClose(conv(nonContiguous(x), nonContiguous(w), b.map(nonContiguous), c), expected, shape: shape,
                        "conv2d non-contiguous \(c) seed \(seed)")
        }
    }

    @Test(arguments: cases) func gradients(_ c: ConvCase) {
        let (x, w, b) = operands(c, seed: 5)
        let inputs = b.map { [x, w, $0] } ?? [x, w]
        checkGradients(inputs, "conv2d \(c)", op: { t in
            conv(t[0], t[1], t.count > 2 ? t[2] : nil, c)
        }, reference: { v in
            referenceConv2d(v[0], c, weight: v[1], bias: v.count > 2 ? v[2] : nil).0
        })
    }

    /// Only one of the operands requires a gradient: the rule must skip the others.
    @Test func gradientOfSingleOperands() {
        let c = ConvCase(input: [2, 4, 5, 5], outChannels: 3, kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        let (x, w, b) = operands(c, seed: 7)
        for k in 0..<3 {
            checkGradients([x, w, b!], constant: Set([0, 1, 2]).subtracting([k]), "conv2d operand \(k)", op: { t in
                conv(t[0], t[1], t[2], c)
            }, reference: { v in referenceConv2d(v[0], c, weight: v[1], bias: v[2]).0 })
        }
    }

    @Test func unbatchedInput() {
        let c = ConvCase(input: [1, 4, 5, 5], outChannels: 2, kernel: (3, 3), padding: (1, 0))
        let (x, w, b) = operands(c, seed: 3)
        let (expected, _) = referenceConv2d(values(x), c, weight: values(w), bias: values(b!))
        let y = x.reshaped([4, 5, 5]).conv2d(weight: w, bias: b, padding: [1, 0])
        expectClose(y, expected, shape: [2, 5, 3], "unbatched conv2d")
    }

    @Test func zeroSizeBatch() {
        let x = Tensor.zeros([0, 4, 5, 5]).requiringGrad()
        let w = randomTensor([3, 4, 3, 3], seed: 1).requiringGrad()
        let b = randomTensor([3], seed: 2).requiringGrad()
        let y = x.conv2d(weight: w, bias: b, padding: 1)
        #expect(y.shape == [0, 3, 5, 5])
        y.sum().backward()
        expectClose(w.grad!, [Double](repeating: 0, count: 3 * 4 * 9), shape: [3, 4, 3, 3], "weight gradient of an empty batch")
        expectClose(b.grad!, [0, 0, 0], shape: [3], "bias gradient of an empty batch")
        expectClose(x.grad!, [], shape: [0, 4, 5, 5], "input gradient of an empty batch")

        // no input channels: the output is the bias alone
        let bias = Tensor([1, -2] as [Float]).requiringGrad()
        let z = Tensor.zeros([2, 0, 3, 3]).conv2d(weight: Tensor.zeros([2, 0, 2, 2]), bias: bias)
        expectClose(z, (0..<16).map { $0 % 8 < 4 ? 1 : -2 }, shape: [2, 2, 2, 2], "conv2d without input channels")
        z.sum().backward()
        expectClose(bias.grad!, [8, 8], "bias gradient without input channels")
    }

    /// Channel counts large enough for oneDNN's optimised kernels; the backward passes are compared
    /// with the adjoint of the Float64 loops (scatter of g · w into dx, g · x into dw).
    @Test(arguments: [
        ConvCase(input: [2, 16, 12, 12], outChannels: 24, kernel: (3, 3), padding: (1, 1)),
        ConvCase(input: [2, 32, 11, 11], outChannels: 32, kernel: (3, 3), stride: (2, 2), padding: (1, 1), groups: 32),
        ConvCase(input: [2, 16, 10, 13], outChannels: 16, kernel: (5, 3), stride: (2, 3), padding: (2, 1), dilation: (1, 2), groups: 4),
    ]) func largerShapesAgainstAdjointReference(_ c: ConvCase) {
        let (x, w, b) = operands(c, seed: 31)
        let (xv, wv) = (values(x), values(w))
        let (expected, shape) = referenceConv2d(xv, c, weight: wv, bias: values(b!))
        let xl = x.requiringGrad(), wl = w.requiringGrad(), bl = b!.requiringGrad()
        let y = conv(xl, wl, bl, c)
        expectClose(y, expected, shape: shape, atol: 1e-4, "conv2d \(c)")
        let g = randomTensor(shape, seed: 32)
        y.backward(g)
        let gv = values(g)

        let (n, ch, h, wd) = (c.input[0], c.input[1], c.input[2], c.input[3])
        let (o, kh, kw) = (c.outChannels, c.kernel.0, c.kernel.1)
        let (oh, ow) = (shape[2], shape[3])
        let cg = ch / c.groups, og = o / c.groups
        var dx = [Double](repeating: 0, count: xv.count), dw = [Double](repeating: 0, count: wv.count)
        var db = [Double](repeating: 0, count: o)
        for b0 in 0..<n { for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
            let gk = gv[((b0 * o + oc) * oh + i) * ow + j]
            db[oc] += gk
            for ci in 0..<cg {
                let inC = (oc / og) * cg + ci
                for p in 0..<kh {
                    let hh = i * c.stride.0 - c.padding.0 + p * c.dilation.0
                    if hh < 0 || hh >= h { continue }
                    for q in 0..<kw {
                        let ww = j * c.stride.1 - c.padding.1 + q * c.dilation.1
                        if ww < 0 || ww >= wd { continue }
                        let xi = ((b0 * ch + inC) * h + hh) * wd + ww, wi = ((oc * cg + ci) * kh + p) * kw + q
                        dx[xi] += gk * wv[wi]
                        dw[wi] += gk * xv[xi]
                    }
                }
            }
        } } } }
        expectClose(xl.grad!, dx, shape: c.input, atol: 1e-4, "conv2d input gradient \(c)")
        expectClose(wl.grad!, dw, shape: c.weight, atol: 1e-4, "conv2d weight gradient \(c)")
        expectClose(bl.grad!, db, shape: [o], atol: 1e-4, "conv2d bias gradient \(c)")
    }

    // MARK: conv1d

    /// conv1d's Float64 reference is the 2-D one at height 1.
    func reference1d(_ x: [Double], input: [Int], weight w: [Double], outChannels: Int, kernel: Int, bias: [Double]?,
                     stride: Int, padding: Int, dilation: Int, groups: Int) -> ([Double], [Int]) {
        let c = ConvCase(input: [input[0], input[1], 1, input[2]], outChannels: outChannels, kernel: (1, kernel),
                         stride: (1, stride), padding: (0, padding), dilation: (1, dilation), groups: groups)
        let (y, s) = referenceConv2d(x, c, weight: w, bias: bias)
        return (y, [s[0], s[1], s[3]])
    }

    @Test(arguments: [
        (stride: 1, padding: 0, dilation: 1, groups: 1), (stride: 2, padding: 2, dilation: 1, groups: 1),
        (stride: 1, padding: 1, dilation: 3, groups: 2), (stride: 3, padding: 1, dilation: 2, groups: 4),
    ]) func conv1dMatchesReference(_ p: (stride: Int, padding: Int, dilation: Int, groups: Int)) {
        let input = [2, 4, 9], o = 4, k = 3
        for seed in testSeeds {
            let x = randomTensor(input, seed: seed)
            let w = randomTensor([o, 4 / p.groups, k], seed: seed + 10)
            let b = randomTensor([o], seed: seed + 20)
            let (expected, shape) = reference1d(values(x), input: input, weight: values(w), outChannels: o, kernel: k,
                                                bias: values(b), stride: p.stride, padding: p.padding,
                                                dilation: p.dilation, groups: p.groups)
            let y = x.conv1d(weight: w, bias: b, stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups)
            expectClose(y, expected, shape: shape, "conv1d \(p) seed \(seed)")
            let yv = nonContiguous(x).conv1d(weight: nonContiguous(w), bias: b, stride: p.stride, padding: p.padding,
                                             dilation: p.dilation, groups: p.groups)
            expectClose(yv, expected, shape: shape, "conv1d non-contiguous \(p) seed \(seed)")
            if seed == testSeeds[0] {
                checkGradients([x, w, b], "conv1d \(p)", op: { t in
                    t[0].conv1d(weight: t[1], bias: t[2], stride: p.stride, padding: p.padding, dilation: p.dilation,
                                groups: p.groups)
                }, reference: { v in
                    reference1d(v[0], input: input, weight: v[1], outChannels: o, kernel: k, bias: v[2], stride: p.stride,
                                padding: p.padding, dilation: p.dilation, groups: p.groups).0
                })
            }
        }
    }

    @Test func conv1dUnbatched() {
        let x = randomTensor([3, 7], seed: 4), w = randomTensor([2, 3, 2], seed: 5)
        let (expected, _) = reference1d(values(x), input: [1, 3, 7], weight: values(w), outChannels: 2, kernel: 2, bias: nil,
                                        stride: 2, padding: 1, dilation: 1, groups: 1)
        expectClose(x.conv1d(weight: w, stride: 2, padding: 1), expected, shape: [2, 4], "unbatched conv1d")
    }

    // MARK: misuse

    @Test func channelMismatchNamesShapes() async {
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 4, 5, 5]).conv2d(weight: Tensor.zeros([6, 3, 3, 3]))
        }, contains: "conv2d: weight [6, 3, 3, 3] takes 3 channels per group × 1 groups = 3 input channels, but input [2, 4, 5, 5] has 4")
    }

    @Test func groupsMustDivideChannels() async {
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 4, 5, 5]).conv2d(weight: Tensor.zeros([6, 1, 3, 3]), groups: 3)
        }, contains: "conv2d: input channels 4 of input [2, 4, 5, 5] are not divisible by groups = 3")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 4, 5, 5]).conv2d(weight: Tensor.zeros([5, 2, 3, 3]), groups: 2)
        }, contains: "conv2d: output channels 5 of weight [5, 2, 3, 3] are not divisible by groups = 2")
    }

    @Test func kernelLargerThanPaddedInput() async {
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 4, 4]).conv2d(weight: Tensor.zeros([1, 1, 3, 3]), dilation: 2)
        }, contains: "conv2d: kernel [3, 3] with dilation [2, 2] spans 5 on spatial axis 0, more than the padded input size 4 (input [1, 1, 4, 4], padding [0, 0])")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 2, 2]).conv1d(weight: Tensor.zeros([3, 2, 5]), padding: 1)
        }, contains: "conv1d: kernel [5] with dilation [1] spans 5 on spatial axis 0, more than the padded input size 4 (input [1, 2, 2], padding [1])")
    }

    @Test func badRanksBiasAndSteps() async {
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([4, 5]).conv2d(weight: Tensor.zeros([1, 4, 1, 1]))
        }, contains: "conv2d: input must be [N, C, H, W] (or unbatched [C, H, W]), got [4, 5]")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 2, 8]).conv1d(weight: Tensor.zeros([3, 2, 1, 1]))
        }, contains: "conv1d: weight must be [O, C/groups, K], got [3, 2, 1, 1]")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 2, 3, 3]).conv2d(weight: Tensor.zeros([3, 2, 1, 1]), bias: Tensor.zeros([4]))
        }, contains: "conv2d: bias [4] must be [3] for weight [3, 2, 1, 1]")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 2, 3, 3]).conv2d(weight: Tensor.zeros([3, 2, 1, 1]), stride: [0, 1])
        }, contains: "conv2d: stride [0, 1] must be at least 1")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2]).conv2d(weight: Tensor.zeros([1, 1, 1, 1]))
        }, contains: "conv2d: needs a float32 tensor, got int64")
    }
}

/// Expects the stderr of a finished exit test to contain `message` (exit-test bodies cannot capture,
/// so each test spells its `#expect(processExitsWith:)` out and hands the result here).
func expectStderr(_ result: ExitTest.Result?, contains message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(stderr.contains(message), "expected “\(message)” in stderr: \(stderr)", sourceLocation: sourceLocation)
}
