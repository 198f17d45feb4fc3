import Foundation
import Testing
@testable import OmniTensor

/// Row kernels (max, softmax, fused cross-entropy) run 16 lanes at a time and finish with a
/// scalar tail; rows of 16, 37 and 53 elements exercise both parts (the other tests' rows are
/// shorter than one block of lanes).
@Suite struct WideRowTests {
    static let widths = [16, 37, 53]

    @Test func maxOfWideRowsPropagatesNaNFromLanesAndTail() {
        for n in Self.widths {
            let x = randomTensor([4, n], seed: UInt64(n), low: -5, high: 5)
            var v = x.toArray()
            v[n + 3] = .nan            // row 1: in the lanes
            v[2 * n + n - 1] = .nan    // row 2: in the tail (or the last lane when n = 16)
            for i in 0..<n { v[3 * n + i] = -.infinity }
            let t = Tensor(v, shape: [4, n])
            let row0 = v[0..<n].map(Double.init).max()!
            expectClose(t.max(axis: 1), [row0, .nan, .nan, -.infinity], atol: 0, rtol: 0, "max of [4, \(n)]")
        }
    }

    @Test func softmaxOfWideRows() {
        for n in Self.widths {
            for seed in testSeeds {
                let x = randomTensor([3, n], seed: seed &+ UInt64(n), low: -8, high: 8)
                let v = values(x)
                var sm: [Double] = [], lsm: [Double] = []
                for r in 0..<3 {
                    let row = Array(v[(r * n)..<((r + 1) * n)])
                    let m = row.max()!
                    let lse = m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
                    sm += row.map { Foundation.exp($0 - lse) }
                    lsm += row.map { $0 - lse }
                }
                expectClose(x.softmax(axis: 1), sm, atol: 1e-7, rtol: 2e-6, "softmax [3, \(n)] seed \(seed)")
                expectClose(x.logSoftmax(axis: 1), lsm, atol: 1e-6, rtol: 1e-6, "logSoftmax [3, \(n)] seed \(seed)")
            }
        }
    }

    @Test func crossEntropyOfWideRows() {
        for n in Self.widths {
            for seed in testSeeds {
                for smoothing in [0.0, 0.2] as [Float] {
                    let x = randomTensor([5, n], seed: seed &+ UInt64(n), low: -6, high: 6)
                    let g = Generator(seed: seed)
                    var t = (0..<5).map { _ in g.nextInt(below: n) }
                    t[3] = -100
                    t[4] = n - 1   // a target in the tail
                    for reduction in allReductions {
                        let loss = Tensor.crossEntropy(logits: x, targets: Tensor(t), labelSmoothing: smoothing, reduction: reduction)
                        let ref = crossEntropyReference(values(x), shape: [5, n], targets: t, smoothing: Double(smoothing), reduction: reduction)
                        expectClose(loss, ref, "crossEntropy [5, \(n)] smoothing \(smoothing) \(reduction) seed \(seed)")
                    }
                    checkGradients([x, Tensor(t)], constant: [1], seed: seed, "crossEntropy [5, \(n)] smoothing \(smoothing)",
                                   op: { Tensor.crossEntropy(logits: $0[0], targets: $0[1], labelSmoothing: smoothing) },
                                   reference: { crossEntropyReference($0[0], shape: [5, n], targets: $0[1].map { Int($0) },
                                                                      smoothing: Double(smoothing), reduction: .mean) })
                }
            }
        }
    }

    /// Class axis 1 of [N, C, d] is moved last for the row kernel; rows follow the targets' order.
    @Test func crossEntropyOverASpatialAxisWithWideClasses() {
        for seed in testSeeds {
            let x = randomTensor([2, 37, 3], seed: seed, low: -4, high: 4)
            let g = Generator(seed: seed)
            let t = (0..<6).map { _ in g.nextInt(below: 37) }
            let ref = crossEntropyReference(values(x), shape: [2, 37, 3], targets: t, smoothing: 0.1, reduction: .none)
            expectClose(Tensor.crossEntropy(logits: x, targets: Tensor(t, shape: [2, 3]), labelSmoothing: 0.1, reduction: .none),
                        ref, shape: [2, 3], "[2, 37, 3] seed \(seed)")
            expectClose(Tensor.crossEntropy(logits: nonContiguous(x), targets: Tensor(t, shape: [2, 3]), labelSmoothing: 0.1,
                                            reduction: .none), ref, shape: [2, 3], "strided [2, 37, 3] seed \(seed)")
        }
    }

    /// Masked classes (-inf logits) get probability 0 and no gradient; large logits stay exact.
    @Test func crossEntropyWithMaskedAndLargeLogits() {
        var v = randomTensor([2, 40], seed: 4, low: -300, high: 300).toArray()
        for i in stride(from: 1, to: 40, by: 3) { v[i] = -.infinity }
        let x = Tensor(v, shape: [2, 40])
        let t = [0, 39]
        var losses: [Double] = [], expected: [Double] = []
        for r in 0..<2 {
            let row = v[(r * 40)..<((r + 1) * 40)].map(Double.init)
            let m = row.max()!
            let z = row.reduce(0) { $0 + Foundation.exp($1 - m) }
            losses.append(m + Foundation.log(z) - row[t[r]])
            for (c, value) in row.enumerated() { expected.append(Foundation.exp(value - m) / z - (c == t[r] ? 1 : 0)) }
        }
        // (the shared reference adds 0 · ∞ for the smoothing term, so it is written out here)
        expectClose(Tensor.crossEntropy(logits: x, targets: Tensor(t), reduction: .none), losses, atol: 1e-3, "masked, large")
        let (_, grads) = valueAndGrad([x]) { Tensor.crossEntropy(logits: $0[0], targets: Tensor(t), reduction: .sum) }
        expectClose(grads[0], expected, atol: 1e-6, "gradient with masked classes")
    }
}
