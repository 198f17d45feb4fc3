import Testing
@testable import OmniTensor

/// A pooling window over [N, C, H, W].
struct PoolCase: CustomStringConvertible, Sendable {
    var input: [Int] = [2, 4, 5, 5]
    var kernel: (Int, Int)
    var stride: (Int, Int)? = nil
    var padding: (Int, Int) = (0, 0)
    var dilation: (Int, Int) = (1, 1)
    var countIncludePad = true

    var step: (Int, Int) { stride ?? kernel }
    var outSize: (Int, Int) {
        ((input[2] + 2 * padding.0 - dilation.0 * (kernel.0 - 1) - 1) / step.0 + 1,
         (input[3] + 2 * padding.1 - dilation.1 * (kernel.1 - 1) - 1) / step.1 + 1)
    }
    var description: String {
        "input \(input) kernel \(kernel) stride \(step) padding \(padding) dilation \(dilation) includePad \(countIncludePad)"
    }
}

/// Float64 pooling by direct loops; `window` gets the in-range values of one window and the
/// window's padded size, and returns the output value.
func referencePool2d(_ x: [Double], _ c: PoolCase, window: ([Double], Int) -> Double) -> ([Double], [Int]) {
    let (n, ch, h, w) = (c.input[0], c.input[1], c.input[2], c.input[3])
    let (oh, ow) = c.outSize
    var y: [Double] = []
    for plane in 0..<(n * ch) {
        for i in 0..<oh {
            for j in 0..<ow {
                var vals: [Double] = []
                var padded = 0
                for p in 0..<c.kernel.0 {
                    let hh = i * c.step.0 - c.padding.0 + p * c.dilation.0
                    for q in 0..<c.kernel.1 {
                        let ww = j * c.step.1 - c.padding.1 + q * c.dilation.1
                        // avg_pool2d's divisor counts padding but not positions beyond it
                        if hh < h + c.padding.0 && ww < w + c.padding.1 { padded += 1 }
                        if hh >= 0 && hh < h && ww >= 0 && ww < w { vals.append(x[(plane * h + hh) * w + ww]) }
                    }
                }
                y.append(window(vals, padded))
            }
        }
    }
    return (y, [n, ch, oh, ow])
}

func referenceMaxPool2d(_ x: [Double], _ c: PoolCase) -> ([Double], [Int]) {
    referencePool2d(x, c) { vals, _ in vals.max() ?? -.infinity }
}

func referenceAvgPool2d(_ x: [Double], _ c: PoolCase) -> ([Double], [Int]) {
    referencePool2d(x, c) { vals, padded in
        let divisor = c.countIncludePad ? padded : vals.count
        return vals.reduce(0, +) / Double(divisor)
    }
}

func referenceAdaptiveAvgPool2d(_ x: [Double], input: [Int], out: (Int, Int)) -> ([Double], [Int]) {
    let (n, ch, h, w) = (input[0], input[1], input[2], input[3])
    var y: [Double] = []
    for plane in 0..<(n * ch) {
        for i in 0..<out.0 {
            let h0 = Int((Double(i * h) / Double(out.0)).rounded(.down)), h1 = Int((Double((i + 1) * h) / Double(out.0)).rounded(.up))
            for j in 0..<out.1 {
                let w0 = Int((Double(j * w) / Double(out.1)).rounded(.down)), w1 = Int((Double((j + 1) * w) / Double(out.1)).rounded(.up))
                var s = 0.0
                for hh in h0..<h1 { for ww in w0..<w1 { s += x[(plane * h + hh) * w + ww] } }
                y.append(s / Double((h1 - h0) * (w1 - w0)))
            }
        }
    }
    return (y, [n, ch, out.0, out.1])
}

@Suite struct PoolingTests {
    static let maxCases: [PoolCase] = [
        PoolCase(kernel: (2, 2)),                                           // floor drops the last row/column
        PoolCase(kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
        PoolCase(input: [2, 3, 5, 6], kernel: (3, 2), stride: (1, 2), padding: (1, 0)),
        PoolCase(kernel: (2, 2), stride: (1, 1), padding: (1, 1), dilation: (2, 2)),
        PoolCase(kernel: (3, 2), stride: (1, 1), dilation: (2, 3)),
        PoolCase(input: [1, 2, 4, 4], kernel: (4, 4)),                      // 1×1 output
    ]
    static let avgCases: [PoolCase] = [
        PoolCase(kernel: (2, 2)),
        PoolCase(kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
        PoolCase(kernel: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: false),
        PoolCase(input: [2, 3, 5, 6], kernel: (3, 2), stride: (2, 1), padding: (1, 1), countIncludePad: false),
        PoolCase(input: [2, 3, 6, 5], kernel: (2, 3), stride: (3, 1), padding: (1, 1)),
        PoolCase(kernel: (5, 5), stride: (1, 1)),
    ]

    func maxPool(_ x: Tensor, _ c: PoolCase) -> Tensor {
        x.maxPool2d(kernel: IntOrPair(c.kernel), stride: c.stride.map(IntOrPair.init), padding: IntOrPair(c.padding),
                    dilation: IntOrPair(c.dilation))
    }
    func avgPool(_ x: Tensor, _ c: PoolCase) -> Tensor {
        x.avgPool2d(kernel: IntOrPair(c.kernel), stride: c.stride.map(IntOrPair.init), padding: IntOrPair(c.padding),
                    countIncludePad: c.countIncludePad)
    }

    @Test(arguments: maxCases) func maxPoolForwardAndGradient(_ c: PoolCase) {
        for seed in testSeeds {
            let x = randomTensor(c.input, seed: seed)
            let (expected, shape) = referenceMaxPool2d(values(x), c)
            expectClose(maxPool(x, c), expected, shape: shape, atol: 0, rtol: 0, "maxPool2d \(c) seed \(seed)")
            expectClose(maxPool(nonContiguous(x), c), expected, shape: shape, atol: 0, rtol: 0,
                        "maxPool2d non-contiguous \(c) seed \(seed)")
        }
        checkGradients([randomTensor(c.input, seed: 11)], "maxPool2d \(c)", op: { maxPool($0[0], c) },
                       reference: { referenceMaxPool2d($0[0], c).0 })
    }

    @Test(arguments: avgCases) func avgPoolForwardAndGradient(_ c: PoolCase) {
        for seed in testSeeds {
            let x = randomTensor(c.input, seed: seed)
            let (expected, shape) = referenceAvgPool2d(values(x), c)
            expectClose(avgPool(x, c), expected, shape: shape, "avgPool2d \(c) seed \(seed)")
            expectClose(avgPool(nonContiguous(x), c), expected, shape: shape, "avgPool2d non-contiguous \(c) seed \(seed)")
        }
        checkGradients([randomTensor(c.input, seed: 12)], "avgPool2d \(c)", op: { avgPool($0[0], c) },
                       reference: { referenceAvgPool2d($0[0], c).0 })
    }

    @Test(arguments: [(1, 1), (2, 3), (3, 2), (5, 7), (4, 4), (7, 9)])
    func adaptiveAvgPoolForwardAndGradient(_ out: (Int, Int)) {
        let input = [2, 3, 5, 7]
        for seed in testSeeds {
            let x = randomTensor(input, seed: seed)
            let (expected, shape) = referenceAdaptiveAvgPool2d(values(x), input: input, out: out)
            expectClose(x.adaptiveAvgPool2d(outputSize: IntOrPair(out)), expected, shape: shape, "adaptiveAvgPool2d \(out) seed \(seed)")
            expectClose(nonContiguous(x).adaptiveAvgPool2d(outputSize: IntOrPair(out)), expected, shape: shape,
                        "adaptiveAvgPool2d non-contiguous \(out) seed \(seed)")
        }
        checkGradients([randomTensor(input, seed: 13)], "adaptiveAvgPool2d \(out)",
                       op: { $0[0].adaptiveAvgPool2d(outputSize: IntOrPair(out)) },
                       reference: { referenceAdaptiveAvgPool2d($0[0], input: input, out: out).0 })
    }

    /// Ties send the gradient to the first maximum; NaN wins the window; -inf inputs still pick an element.
    @Test func maxPoolTiesNaNAndInfinity() {
        let ones = Tensor.ones([1, 1, 2, 4]).requiringGrad()
        ones.maxPool2d(kernel: 2).sum().backward()
        expectClose(ones.grad!, [1, 0, 1, 0, 0, 0, 0, 0], "gradient of tied windows")

        let withNaN = Tensor([1, .nan, 3, 4, 5, 6, 7, -.infinity] as [Float], shape: [1, 1, 2, 4])
        expectClose(withNaN.maxPool2d(kernel: 2), [.nan, 7], "NaN propagates through max pooling")

        let allInf = Tensor.full([1, 1, 2, 2], -.infinity).requiringGrad()
        let y = allInf.maxPool2d(kernel: 2, padding: 1)
        expectClose(y, [Double](repeating: -.infinity, count: 4), shape: [1, 1, 2, 2], "-inf windows")
        y.sum().backward()
        expectClose(allInf.grad!, [1, 1, 1, 1], "each corner window picks its one in-range element")
    }

    @Test func unbatchedAndZeroSizeBatch() {
        let x = randomTensor([3, 5, 5], seed: 4)
        let c = PoolCase(input: [1, 3, 5, 5], kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        expectClose(maxPool(x, c), referenceMaxPool2d(values(x), c).0, shape: [3, 3, 3], "unbatched maxPool2d")
        expectClose(avgPool(x, c), referenceAvgPool2d(values(x), c).0, shape: [3, 3, 3], "unbatched avgPool2d")

        let empty = Tensor.zeros([0, 3, 5, 5]).requiringGrad()
        for y in [empty.maxPool2d(kernel: 2), empty.avgPool2d(kernel: 2), empty.adaptiveAvgPool2d(outputSize: 2)] {
            #expect(y.shape == [0, 3, 2, 2])
            y.sum().backward()
            expectClose(empty.grad!, [], shape: [0, 3, 5, 5], "gradient of an empty batch")
            empty.zeroGrad()
        }
    }

    /// Large enough that the kernels split the planes over several threads; the backward passes
    /// are compared with a Float64 transpose of the reference windows.
    @Test func multiThreadedPlanes() {
        let c = PoolCase(input: [4, 16, 32, 32], kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        let x = randomTensor(c.input, seed: 21).requiringGrad()
        let xv = values(x)
        let g = randomTensor([4, 16, 16, 16], seed: 22)
        let gv = values(g)

        let yMax = maxPool(x, c)
        expectClose(yMax, referenceMaxPool2d(xv, c).0, shape: [4, 16, 16, 16], atol: 0, rtol: 0, "large maxPool2d")
        yMax.backward(g)
        expectClose(x.grad!, referencePoolGradient(xv, c, max: true, g: gv), "large maxPool2d gradient")
        x.zeroGrad()

        let yAvg = avgPool(x, c)
        expectClose(yAvg, referenceAvgPool2d(xv, c).0, shape: [4, 16, 16, 16], "large avgPool2d")
        yAvg.backward(g)
        expectClose(x.grad!, referencePoolGradient(xv, c, max: false, g: gv), "large avgPool2d gradient")
    }

    /// dx of max or average pooling (count_include_pad) for the output gradient `g`, by direct loops.
    func referencePoolGradient(_ x: [Double], _ c: PoolCase, max: Bool, g: [Double]) -> [Double] {
        let (n, ch, h, w) = (c.input[0], c.input[1], c.input[2], c.input[3])
        let (oh, ow) = c.outSize
        var dx = [Double](repeating: 0, count: x.count)
        for plane in 0..<(n * ch) {
            for i in 0..<oh {
                for j in 0..<ow {
                    var taps: [Int] = []
                    for p in 0..<c.kernel.0 {
                        for q in 0..<c.kernel.1 {
                            let hh = i * c.step.0 - c.padding.0 + p * c.dilation.0
                            let ww = j * c.step.1 - c.padding.1 + q * c.dilation.1
                            if hh >= 0 && hh < h && ww >= 0 && ww < w { taps.append((plane * h + hh) * w + ww) }
                        }
                    }
                    let gk = g[(plane * oh + i) * ow + j]
                    if max {
                        var best = taps[0]
                        for t in taps where x[t] > x[best] { best = t }
                        dx[best] += gk
                    } else {
                        for t in taps { dx[t] += gk / Double(c.kernel.0 * c.kernel.1) }
                    }
                }
            }
        }
        return dx
    }

    // MARK: 1-D

    /// The 1-D references are the 2-D ones at height 1.
    func case1d(input: [Int], kernel: Int, stride: Int?, padding: Int, dilation: Int = 1, includePad: Bool = true) -> PoolCase {
        PoolCase(input: [input[0], input[1], 1, input[2]], kernel: (1, kernel), stride: stride.map { (1, $0) },
                 padding: (0, padding), dilation: (1, dilation), countIncludePad: includePad)
    }

    @Test(arguments: [
        (kernel: 2, stride: nil as Int?, padding: 0, dilation: 1, includePad: true),
        (kernel: 3, stride: 2, padding: 1, dilation: 1, includePad: false),
        (kernel: 3, stride: 1, padding: 1, dilation: 2, includePad: true),
        (kernel: 4, stride: 3, padding: 2, dilation: 1, includePad: true),
    ]) func pool1d(_ p: (kernel: Int, stride: Int?, padding: Int, dilation: Int, includePad: Bool)) {
        let input = [2, 3, 9]
        let c = case1d(input: input, kernel: p.kernel, stride: p.stride, padding: p.padding, dilation: p.dilation,
                       includePad: p.includePad)
        let avg = PoolCase(input: c.input, kernel: c.kernel, stride: c.stride, padding: c.padding,
                           countIncludePad: p.includePad)
        let maxShape = [2, 3, c.outSize.1], avgShape = [2, 3, avg.outSize.1]  // avg pooling has no dilation
        for seed in testSeeds {
            let x = randomTensor(input, seed: seed)
            for t in [x, nonContiguous(x)] {
                expectClose(t.maxPool1d(kernel: p.kernel, stride: p.stride, padding: p.padding, dilation: p.dilation),
                            referenceMaxPool2d(values(x), c).0, shape: maxShape, atol: 0, rtol: 0, "maxPool1d \(p) seed \(seed)")
                expectClose(t.avgPool1d(kernel: p.kernel, stride: p.stride, padding: p.padding, countIncludePad: p.includePad),
                            referenceAvgPool2d(values(x), avg).0, shape: avgShape, "avgPool1d \(p) seed \(seed)")
            }
        }
        let x = randomTensor(input, seed: 14)
        checkGradients([x], "maxPool1d \(p)", op: {
            $0[0].maxPool1d(kernel: p.kernel, stride: p.stride, padding: p.padding, dilation: p.dilation)
        }, reference: { referenceMaxPool2d($0[0], c).0 })
        checkGradients([x], "avgPool1d \(p)", op: {
            $0[0].avgPool1d(kernel: p.kernel, stride: p.stride, padding: p.padding, countIncludePad: p.includePad)
        }, reference: { referenceAvgPool2d($0[0], avg).0 })
    }

    @Test(arguments: [1, 3, 4, 9, 12]) func adaptiveAvgPool1d(_ out: Int) {
        let input = [2, 3, 9]
        for seed in testSeeds {
            let x = randomTensor(input, seed: seed)
            let expected = referenceAdaptiveAvgPool2d(values(x), input: [2, 3, 1, 9], out: (1, out)).0
            expectClose(x.adaptiveAvgPool1d(outputSize: out), expected, shape: [2, 3, out], "adaptiveAvgPool1d \(out) seed \(seed)")
            expectClose(nonContiguous(x).adaptiveAvgPool1d(outputSize: out), expected, shape: [2, 3, out],
                        "adaptiveAvgPool1d non-contiguous \(out) seed \(seed)")
        }
        checkGradients([randomTensor(input, seed: 15)], "adaptiveAvgPool1d \(out)",
                       op: { $0[0].adaptiveAvgPool1d(outputSize: out) },
                       reference: { referenceAdaptiveAvgPool2d($0[0], input: [2, 3, 1, 9], out: (1, out)).0 })
        let unbatched = randomTensor([3, 9], seed: 16)
        expectClose(unbatched.adaptiveAvgPool1d(outputSize: out),
                    referenceAdaptiveAvgPool2d(values(unbatched), input: [1, 3, 1, 9], out: (1, out)).0,
                    shape: [3, out], "unbatched adaptiveAvgPool1d")
    }

    // MARK: misuse

    @Test func paddingAtMostHalfTheKernel() async {
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 6, 6]).maxPool2d(kernel: 3, padding: [1, 2])
        }, contains: "maxPool2d: padding [1, 2] must be at most half of kernel [3, 3]")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 6]).avgPool1d(kernel: 2, padding: 2)
        }, contains: "avgPool1d: padding [2] must be at most half of kernel [2]")
    }

    @Test func windowLargerThanInput() async {
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4, 4]).avgPool2d(kernel: [2, 5])
        }, contains: "avgPool2d: kernel [2, 5] with dilation [1, 1] spans 5 on spatial axis 1, more than the padded input size 4 (input [2, 3, 4, 4], padding [0, 0])")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 5]).maxPool1d(kernel: 3, dilation: 3)
        }, contains: "maxPool1d: kernel [3] with dilation [3] spans 7 on spatial axis 0, more than the padded input size 5 (input [2, 3, 5], padding [0])")
    }

    @Test func badRanksAndSizes() async {
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([4, 4]).maxPool2d(kernel: 2)
        }, contains: "maxPool2d: input must be [N, C, H, W] or [C, H, W], got [4, 4]")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 2, 0, 3]).adaptiveAvgPool2d(outputSize: 1)
        }, contains: "adaptiveAvgPool2d: input [1, 2, 0, 3] has an empty spatial axis")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 2, 3, 3]).maxPool2d(kernel: 2, stride: 0)
        }, contains: "maxPool2d: stride [0, 0] must be at least 1")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 2, 3, 3]).avgPool2d(kernel: [1, 2, 3])
        }, contains: "IntOrPair: needs [height, width], got 3 values [1, 2, 3]")
    }
}
