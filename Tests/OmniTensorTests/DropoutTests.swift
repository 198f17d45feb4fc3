import Testing
@testable import OmniTensor

/// The dropout mask drawn independently of the implementation: one uniform Double per element
/// from the generator in C order, kept when below 1 − p, scaled by 1 / (1 − p) in float32.
func referenceDropoutMask(count: Int, p: Float, seed: UInt64) -> [Double] {
    let g = Generator(seed: seed)
    let keep = 1 - p
    let scale = Double(1 / keep)
    return (0..<count).map { _ in g.nextDouble() < Double(keep) ? scale : 0 }
}

@Suite struct DropoutTests {
    @Test(arguments: [Float(0.1), 0.5, 0.8]) func matchesReferenceMask(_ p: Float) {
        for seed in testSeeds {
            let x = randomTensor([3, 4, 5], seed: seed)
            let mask = referenceDropoutMask(count: 60, p: p, seed: seed)
            let expected = zip(values(x), mask).map { $0 * $1 }
            expectClose(x.dropout(p: p, generator: Generator(seed: seed)), expected, shape: [3, 4, 5], atol: 0, rtol: 1e-6,
                        "dropout p \(p) seed \(seed)")
            // the mask follows the logical order, not the memory layout
            expectClose(nonContiguous(x).dropout(p: p, generator: Generator(seed: seed)), expected, shape: [3, 4, 5],
                        atol: 0, rtol: 1e-6, "dropout non-contiguous p \(p) seed \(seed)")
        }
    }

    @Test func gradientFlowsThroughTheMask() {
        let x = randomTensor([4, 5], seed: 1)
        let mask = referenceDropoutMask(count: 20, p: 0.4, seed: 42)
        checkGradients([x], "dropout", op: { $0[0].dropout(p: 0.4, generator: Generator(seed: 42)) },
                       reference: { zip($0[0], mask).map { $0 * $1 } })
    }

    @Test func deterministicPerGeneratorState() {
        let x = randomTensor([64], seed: 3)
        let a = x.dropout(p: 0.5, generator: Generator(seed: 9)).toArray()
        let b = x.dropout(p: 0.5, generator: Generator(seed: 9)).toArray()
        #expect(a == b)
        // a generator advances: the next draw is a different mask
        let g = Generator(seed: 9)
        let first = x.dropout(p: 0.5, generator: g).toArray(), second = x.dropout(p: 0.5, generator: g).toArray()
        #expect(first == a)
        #expect(first != second)
        expectClose(Tensor(second), zip(values(x), referenceDropoutMask(count: 128, p: 0.5, seed: 9).suffix(64)).map { $0 * $1 },
                    atol: 0, rtol: 1e-6, "second draw continues the sequence")
    }

    @Test func keptFractionIsOneMinusP() {
        let y = Tensor.ones([100, 100]).dropout(p: 0.3, generator: Generator(seed: 5)).toArray()
        let kept = Double(y.filter { $0 != 0 }.count) / Double(y.count)
        #expect(Swift.abs(kept - 0.7) < 0.02, "kept fraction \(kept)")
        #expect(y.allSatisfy { $0 == 0 || $0 == Float(1) / Float(0.7) })
    }

    @Test func edgeProbabilitiesAndModes() {
        let x = randomTensor([3, 4], seed: 2).requiringGrad()
        expectClose(x.dropout(p: 0, generator: Generator(seed: 1)), values(x), atol: 0, rtol: 0, "p = 0")
        expectClose(x.dropout(p: 0.7, training: false, generator: Generator(seed: 1)), values(x), atol: 0, rtol: 0, "inference")
        let zeros = x.dropout(p: 1, generator: Generator(seed: 1))
        expectClose(zeros, [Double](repeating: 0, count: 12), shape: [3, 4], atol: 0, rtol: 0, "p = 1")
        zeros.sum().backward()
        expectClose(x.grad!, [Double](repeating: 0, count: 12), "gradient at p = 1")
        let empty = Tensor.zeros([0, 3]).dropout(p: 0.5, generator: Generator(seed: 1))
        #expect(empty.shape == [0, 3])
    }

    @Test func misuse() async {
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).dropout(p: 1.5, generator: Generator(seed: 0))
        }, contains: "dropout: probability p must be in [0, 1], got 1.5 (input [2, 3])")
        expectStderr(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor([1, 2], shape: [2]).dropout(p: 0.5, generator: Generator(seed: 0))
        }, contains: "dropout: needs a float32 tensor, got int64")
    }
}
