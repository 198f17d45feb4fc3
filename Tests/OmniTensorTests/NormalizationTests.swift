import Foundation
import Testing
@testable import OmniTensor

/// Float64 layer norm (rms = false) or RMS norm (rms = true) over rows of length n.
func referenceRowNorm(_ x: [Double], n: Int, weight: [Double]?, bias: [Double]?, eps: Double, rms: Bool) -> [Double] {
    var y = [Double](repeating: 0, count: x.count)
    guard n > 0 else { return y }
    for r in 0..<(x.count / n) {
        let row = Array(x[(r * n)..<((r + 1) * n)])
        let mean = rms ? 0 : row.reduce(0, +) / Double(n)
        let ms = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        let rstd = 1 / (ms + eps).squareRoot()
        for i in 0..<n {
            y[r * n + i] = (row[i] - mean) * rstd * (weight?[i] ?? 1) + (bias?[i] ?? 0)
        }
    }
    return y
}

/// Float64 batch norm over [N, C, S...] (S = product of the trailing axes). Training uses batch
/// statistics (biased variance); returns the output, the batch mean and the biased batch variance.
func referenceBatchNorm(_ x: [Double], shape: [Int], weight: [Double]?, bias: [Double]?, eps: Double,
                        running: (mean: [Double], variance: [Double])?) -> (y: [Double], mean: [Double], variance: [Double]) {
    let (n, c) = (shape[0], shape[1])
    let s = shape.dropFirst(2).reduce(1, *)
    var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
    for ch in 0..<c {
        var vals: [Double] = []
        for b in 0..<n { for i in 0..<s { vals.append(x[(b * c + ch) * s + i]) } }
        let m = vals.reduce(0, +) / Double(vals.count)
        mean[ch] = m
        variance[ch] = vals.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(vals.count)
    }
    let useMean = running?.mean ?? mean, useVar = running?.variance ?? variance
    var y = [Double](repeating: 0, count: x.count)
    for b in 0..<n {
        for ch in 0..<c {
            for i in 0..<s {
                let k = (b * c + ch) * s + i
                y[k] = (x[k] - useMean[ch]) / (useVar[ch] + eps).squareRoot() * (weight?[ch] ?? 1) + (bias?[ch] ?? 0)
            }
        }
    }
    return (y, mean, variance)
}

@Suite struct NormalizationTests {
    // MARK: layer norm

    /// (input shape, normalised axis count)
    static let layerShapes: [([Int], Int)] = [([4, 6], 1), ([2, 3, 5], 1), ([2, 3, 5], 2), ([3, 2, 1], 1), ([7], 1)]

    @Test(arguments: layerShapes) func layerNormForward(_ shape: [Int], _ k: Int) {
        let normShape = Array(shape.suffix(k)), n = normShape.reduce(1, *)
        for seed in testSeeds {
            let x = randomTensor(shape, seed: seed, low: -3, high: 3)
            let w = randomTensor(normShape, seed: seed + 10), b = randomTensor(normShape, seed: seed + 20)
            for (wt, bt) in [(w, b), (w, nil), (nil, b), (nil, nil)] as [(Tensor?, Tensor?)] {
                let expected = referenceRowNorm(values(x), n: n, weight: wt.map(values), bias: bt.map(values), eps: 1e-5, rms: false)
                let what = "layerNorm \(shape) axes \(k) weight \(wt != nil) bias \(bt != nil) seed \(seed)"
                expectClose(x.layerNorm(axisCount: k, weight: wt, bias: bt), expected, shape: shape, what)
                expectClose(nonContiguous(x).layerNorm(normalizedShape: normShape, weight: wt, bias: bt), expected,
                            shape: shape, "\(what) non-contiguous")
            }
        }
    }

    @Test(arguments: layerShapes) func layerNormGradients(_ shape: [Int], _ k: Int) {
        let normShape = Array(shape.suffix(k)), n = normShape.reduce(1, *)
        let x = randomTensor(shape, seed: 4), w = randomTensor(normShape, seed: 5), b = randomTensor(normShape, seed: 6)
        checkGradients([x, w, b], "layerNorm \(shape) axes \(k)", op: { $0[0].layerNorm(axisCount: k, weight: $0[1], bias: $0[2]) },
                       reference: { referenceRowNorm($0[0], n: n, weight: $0[1], bias: $0[2], eps: 1e-5, rms: false) })
        checkGradients([x], "layerNorm without affine \(shape)", op: { $0[0].layerNorm(axisCount: k) },
                       reference: { referenceRowNorm($0[0], n: n, weight: nil, bias: nil, eps: 1e-5, rms: false) })
        checkGradients([x, b], "layerNorm bias only \(shape)", op: { $0[0].layerNorm(axisCount: k, bias: $0[1]) },
                       reference: { referenceRowNorm($0[0], n: n, weight: nil, bias: $0[1], eps: 1e-5, rms: false) })
        // weight only, and the input held constant (the rule must skip dx)
        checkGradients([x, w], constant: [0], "layerNorm weight only \(shape)", op: { $0[0].layerNorm(axisCount: k, weight: $0[1]) },
                       reference: { referenceRowNorm($0[0], n: n, weight: $0[1], bias: nil, eps: 1e-5, rms: false) })
    }

    @Test func layerNormLargeRowsAndEps() {
        // rows long enough for the kernel's 16-wide accumulators, a large offset, and a big eps
        let x = randomTensor([3, 37], seed: 8, low: 99, high: 101)
        let w = randomTensor([37], seed: 9)
        for eps: Float in [1e-5, 0.5] {
            let expected = referenceRowNorm(values(x), n: 37, weight: values(w), bias: nil, eps: Double(eps), rms: false)
            expectClose(x.layerNorm(weight: w, eps: eps), expected, shape: [3, 37], atol: 1e-4, "layerNorm eps \(eps)")
        }
        checkGradients([randomTensor([2, 37], seed: 10), w], "layerNorm long rows",
                       op: { $0[0].layerNorm(weight: $0[1]) },
                       reference: { referenceRowNorm($0[0], n: 37, weight: $0[1], bias: nil, eps: 1e-5, rms: false) })
    }

    @Test func layerNormZeroSizeBatch() {
        let x = Tensor.zeros([0, 4]).requiringGrad()
        let w = randomTensor([4], seed: 1).requiringGrad(), b = randomTensor([4], seed: 2).requiringGrad()
        let y = x.layerNorm(weight: w, bias: b)
        #expect(y.shape == [0, 4])
        y.sum().backward()
        expectClose(w.grad!, [0, 0, 0, 0], "weight gradient of an empty batch")
        expectClose(b.grad!, [0, 0, 0, 0], "bias gradient of an empty batch")
        expectClose(x.grad!, [], shape: [0, 4], "input gradient of an empty batch")
    }

    // MARK: RMS norm

    @Test(arguments: layerShapes) func rmsNormForwardAndGradients(_ shape: [Int], _ k: Int) {
        let normShape = Array(shape.suffix(k)), n = normShape.reduce(1, *)
        for seed in testSeeds {
            let x = randomTensor(shape, seed: seed, low: -3, high: 3), w = randomTensor(normShape, seed: seed + 30)
            let expected = referenceRowNorm(values(x), n: n, weight: values(w), bias: nil, eps: 1e-6, rms: true)
            expectClose(x.rmsNorm(weight: w), expected, shape: shape, "rmsNorm \(shape) seed \(seed)")
            expectClose(nonContiguous(x).rmsNorm(weight: w), expected, shape: shape, "rmsNorm non-contiguous \(shape) seed \(seed)")
            expectClose(x.rmsNorm(axisCount: k, eps: 1e-2),
                        referenceRowNorm(values(x), n: n, weight: nil, bias: nil, eps: 1e-2, rms: true), shape: shape,
                        "rmsNorm without weight \(shape) seed \(seed)")
        }
        let x = randomTensor(shape, seed: 7), w = randomTensor(normShape, seed: 8)
        checkGradients([x, w], "rmsNorm \(shape)", op: { $0[0].rmsNorm(weight: $0[1]) },
                       reference: { referenceRowNorm($0[0], n: n, weight: $0[1], bias: nil, eps: 1e-6, rms: true) })
        checkGradients([x], "rmsNorm without weight \(shape)", op: { $0[0].rmsNorm(axisCount: k) },
                       reference: { referenceRowNorm($0[0], n: n, weight: nil, bias: nil, eps: 1e-6, rms: true) })
    }

    // MARK: batch norm

    static let batchShapes: [[Int]] = [[4, 3], [2, 3, 5], [2, 3, 4, 4]]

    @Test(arguments: batchShapes) func batchNormTraining(_ shape: [Int]) {
        let c = shape[1], m = shape.reduce(1, *) / c
        for seed in testSeeds {
            let x = randomTensor(shape, seed: seed, low: -3, high: 3)
            let w = randomTensor([c], seed: seed + 10), b = randomTensor([c], seed: seed + 20)
            let stats = BatchNormStatistics(mean: randomTensor([c], seed: seed + 30),
                                            variance: randomTensor([c], seed: seed + 40, low: 0.5, high: 2), batchesTracked: 2)
            let ref = referenceBatchNorm(values(x), shape: shape, weight: values(w), bias: values(b), eps: 1e-5, running: nil)
            for input in [x, nonContiguous(x)] {
                let (y, updated) = input.batchNorm(statistics: stats, weight: w, bias: b, training: true)
                expectClose(y, ref.y, shape: shape, "batchNorm training \(shape) seed \(seed)")
                // running statistics: momentum 0.1, unbiased variance
                let oldMean = values(stats.mean), oldVar = values(stats.variance)
                expectClose(updated!.mean, (0..<c).map { 0.9 * oldMean[$0] + 0.1 * ref.mean[$0] }, "running mean")
                expectClose(updated!.variance,
                            (0..<c).map { 0.9 * oldVar[$0] + 0.1 * ref.variance[$0] * Double(m) / Double(m - 1) }, "running variance")
                #expect(updated!.batchesTracked == 3)
            }
            // momentum nil: cumulative average over batchesTracked + 1 = 3 batches
            let (_, cumulative) = x.batchNorm(statistics: stats, training: true, momentum: nil)
            expectClose(cumulative!.mean, (0..<c).map { values(stats.mean)[$0] * 2 / 3 + ref.mean[$0] / 3 }, "cumulative mean")
            // no running statistics: output only
            let (y2, none) = x.batchNorm(statistics: nil, weight: w, bias: b, training: true)
            expectClose(y2, ref.y, shape: shape, "batchNorm without running statistics")
            #expect(none == nil)
        }
        let x = randomTensor(shape, seed: 5), w = randomTensor([c], seed: 6), b = randomTensor([c], seed: 7)
        checkGradients([x, w, b], "batchNorm training \(shape)", op: {
            $0[0].batchNorm(statistics: BatchNormStatistics(channels: c), weight: $0[1], bias: $0[2], training: true).output
        }, reference: { referenceBatchNorm($0[0], shape: shape, weight: $0[1], bias: $0[2], eps: 1e-5, running: nil).y })
    }

    @Test(arguments: batchShapes) func batchNormInference(_ shape: [Int]) {
        let c = shape[1]
        for seed in testSeeds {
            let x = randomTensor(shape, seed: seed), w = randomTensor([c], seed: seed + 10), b = randomTensor([c], seed: seed + 20)
            let rm = randomTensor([c], seed: seed + 30), rv = randomTensor([c], seed: seed + 40, low: 0.5, high: 2)
            let stats = BatchNormStatistics(mean: rm, variance: rv, batchesTracked: 5)
            let ref = referenceBatchNorm(values(x), shape: shape, weight: values(w), bias: values(b), eps: 1e-3,
                                         running: (values(rm), values(rv)))
            let (y, same) = nonContiguous(x).batchNorm(statistics: stats, weight: w, bias: b, training: false, eps: 1e-3)
            expectClose(y, ref.y, shape: shape, "batchNorm inference \(shape) seed \(seed)")
            expectClose(same!.mean, values(rm), "running mean unchanged")
            #expect(same!.batchesTracked == 5)
            if seed == testSeeds[0] {
                checkGradients([x, w, b], "batchNorm inference \(shape)", op: {
                    $0[0].batchNorm(statistics: stats, weight: $0[1], bias: $0[2], training: false, eps: 1e-3).output
                }, reference: {
                    referenceBatchNorm($0[0], shape: shape, weight: $0[1], bias: $0[2], eps: 1e-3, running: (values(rm), values(rv))).y
                })
            }
        }
    }

    @Test func batchNormEmptyBatchKeepsStatistics() {
        let stats = BatchNormStatistics(mean: Tensor([1, 2, 3] as [Float]), variance: Tensor([4, 5, 6] as [Float]), batchesTracked: 1)
        let (y, updated) = Tensor.zeros([0, 3, 4]).batchNorm(statistics: stats, training: true)
        #expect(y.shape == [0, 3, 4])
        expectClose(updated!.mean, [1, 2, 3], "mean after an empty batch")
        expectClose(updated!.variance, [4, 5, 6], "variance after an empty batch")
        #expect(updated!.batchesTracked == 1)
    }

    // MARK: misuse

    @Test func layerNormMisuse() async {
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4]).layerNorm(normalizedShape: [3])
        }, contains: "layerNorm: normalized shape [3] does not match the trailing axes of input [2, 3, 4]")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4]).layerNorm(weight: Tensor.zeros([3]))
        }, contains: "layerNorm: weight [3] must have the normalized shape [4] of input [2, 3, 4]")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).rmsNorm(axisCount: 3)
        }, contains: "rmsNorm: cannot normalise the last 3 axes of input [2, 3]")
    }

    @Test func batchNormMisuse() async {
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 3]).batchNorm(statistics: nil, training: true)
        }, contains: "batchNorm: training needs more than one value per channel, got input [1, 3]")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4]).batchNorm(statistics: BatchNormStatistics(channels: 4), training: true)
        }, contains: "batchNorm: running statistics of 4 channels for input [2, 3, 4] with 3")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4]).batchNorm(statistics: nil, training: false)
        }, contains: "batchNorm: inference mode needs running statistics (input [2, 3, 4])")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).batchNorm(statistics: nil, bias: Tensor.zeros([2]), training: true)
        }, contains: "batchNorm: bias [2] must be [3] for input [2, 3]")
    }
}
