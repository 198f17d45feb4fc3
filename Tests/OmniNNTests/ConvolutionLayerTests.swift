import Foundation
import Testing
@testable import OmniNN
@testable import OmniTensor

@Suite struct ConvolutionLayerTests {
    struct Conv2dCase: Sendable, CustomStringConvertible {
        var inChannels: Int, outChannels: Int, kernel: IntOrPair, stride: IntOrPair, padding: IntOrPair
        var dilation: IntOrPair, groups: Int, bias: Bool
        var description: String { "\(inChannels)→\(outChannels) k\(kernel) s\(stride) p\(padding) d\(dilation) g\(groups) bias \(bias)" }
    }

    static let conv2dCases: [Conv2dCase] = [
        Conv2dCase(inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true),
        Conv2dCase(inChannels: 4, outChannels: 2, kernel: [2, 3], stride: [2, 1], padding: [0, 1], dilation: 1, groups: 2, bias: false),
        Conv2dCase(inChannels: 3, outChannels: 6, kernel: 2, stride: 1, padding: 1, dilation: 2, groups: 3, bias: true),  // depthwise ×2
    ]

    @Test(arguments: conv2dCases)
    func conv2dForwardAndGradients(_ c: Conv2dCase) {
        func reference(_ x: [Double], _ p: ParameterValues, n: Int) -> [Double] {
            NNRef.conv2d(x, [n, c.inChannels, 5, 4], p["weight"]!,
                         [c.outChannels, c.inChannels / c.groups, c.kernel.height, c.kernel.width], bias: p["bias"],
                         stride: (c.stride.height, c.stride.width), padding: (c.padding.height, c.padding.width),
                         dilation: (c.dilation.height, c.dilation.width), groups: c.groups).0
        }
        for seed in testSeeds {
            let conv = Conv2d(c.inChannels, c.outChannels, kernel: c.kernel, stride: c.stride, padding: c.padding,
                              dilation: c.dilation, groups: c.groups, bias: c.bias, generator: Generator(seed: seed))
            #expect(conv.namedParameters().map(\.path) == (c.bias ? ["weight", "bias"] : ["weight"]))
            #expect(conv.weight.shape == [c.outChannels, c.inChannels / c.groups, c.kernel.height, c.kernel.width])
            let bound = 1 / Float(c.inChannels / c.groups * c.kernel.height * c.kernel.width).squareRoot()
            #expect(conv.weight.toArray().allSatisfy { Swift.abs($0) <= bound })
            let x = randomTensor([2, c.inChannels, 5, 4], seed: seed)
            let ref = reference(values(x), parameterValues(conv), n: 2)
            let y = conv(x)
            #expect(y.count == ref.count)
            expectClose(y, ref, "conv2d \(c) seed \(seed)")
            expectClose(conv(nonContiguous(x)), ref, "conv2d non-contiguous")
        }
        let conv = Conv2d(c.inChannels, c.outChannels, kernel: c.kernel, stride: c.stride, padding: c.padding,
                          dilation: c.dilation, groups: c.groups, bias: c.bias, generator: Generator(seed: 7))
        checkModuleGradients(conv, inputs: [randomTensor([1, c.inChannels, 5, 4], seed: 8)], "conv2d \(c)",
                             op: { m, t in m(t[0]) }) { v, p in reference(v[0], p, n: 1) }
    }

    @Test(arguments: [(1, 0, 1, 1), (2, 2, 1, 2), (1, 1, 2, 4)])
    func conv1dForwardAndGradients(stride: Int, padding: Int, dilation: Int, groups: Int) {
        let cin = 4, cout = 4, k = 3, l = 7
        func reference(_ x: [Double], _ p: ParameterValues, n: Int) -> [Double] {
            NNRef.conv2d(x, [n, cin, 1, l], p["weight"]!, [cout, cin / groups, 1, k], bias: p["bias"],
                         stride: (1, stride), padding: (0, padding), dilation: (1, dilation), groups: groups).0
        }
        let outLength = (l + 2 * padding - dilation * (k - 1) - 1) / stride + 1
        for seed in testSeeds {
            let conv = Conv1d(cin, cout, kernel: k, stride: stride, padding: padding, dilation: dilation, groups: groups,
                              generator: Generator(seed: seed))
            #expect(conv.namedParameters().map(\.path) == ["weight", "bias"])
            #expect(conv.weight.shape == [cout, cin / groups, k])
            let x = randomTensor([2, cin, l], seed: seed)
            let ref = reference(values(x), parameterValues(conv), n: 2)
            expectClose(conv(x), ref, shape: [2, cout, outLength], "conv1d seed \(seed)")
            expectClose(conv(nonContiguous(x)), ref, "conv1d non-contiguous")
        }
        let conv = Conv1d(cin, cout, kernel: k, stride: stride, padding: padding, dilation: dilation, groups: groups,
                          generator: Generator(seed: 3))
        checkModuleGradients(conv, inputs: [randomTensor([2, cin, l], seed: 4)], "conv1d", op: { m, t in m(t[0]) }) { v, p in
            reference(v[0], p, n: 2)
        }
    }
}
