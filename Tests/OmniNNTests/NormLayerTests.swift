import Foundation
import Testing
@testable import OmniNN
@testable import OmniTensor

@Suite struct NormLayerTests {
    /// Affine parameters that are not the identity, so a dropped weight or bias shows.
    func randomizeAffine(_ m: Module, seed: UInt64) {
        var values: [String: Tensor] = [:]
        for (i, (path, t)) in m.trainableParameters().enumerated() {
            values[path] = randomTensor(t.shape, seed: seed &+ UInt64(31 * i), low: 0.5, high: 1.5)
        }
        m.update(values)
    }

    @Test(arguments: [(true, true), (true, false), (false, false)])
    func layerNormForwardAndGradients(affine: Bool, bias: Bool) {
        let norm = LayerNorm(6, eps: 1e-5, affine: affine, bias: bias)
        #expect(norm.namedParameters().map(\.path) == (affine ? (bias ? ["weight", "bias"] : ["weight"]) : []))
        for seed in testSeeds {
            randomizeAffine(norm, seed: seed)
            let x = randomTensor([2, 3, 6], seed: seed)
            let p = parameterValues(norm)
            let ref = NNRef.layerNorm(values(x), weight: p["weight"], bias: p["bias"], d: 6, eps: Double(Float(1e-5)))
            expectClose(norm(x), ref, shape: [2, 3, 6], "layerNorm seed \(seed)")
            expectClose(norm(nonContiguous(x)), ref, "layerNorm non-contiguous")
        }
        let x = randomTensor([2, 3, 6], seed: 11)
        if affine {
            checkModuleGradients(norm, inputs: [x], "layerNorm", op: { m, t in m(t[0]) }) { v, p in
                NNRef.layerNorm(v[0], weight: p["weight"], bias: p["bias"], d: 6, eps: Double(Float(1e-5)))
            }
        } else {
            checkGradients([x], "layerNorm (no affine)", op: { norm($0[0]) }) {
                NNRef.layerNorm($0[0], weight: nil, bias: nil, d: 6, eps: Double(Float(1e-5)))
            }
        }
    }

    @Test func rmsNormForwardAndGradients() {
        let norm = RMSNorm(5, eps: 1e-6)
        #expect(norm.namedParameters().map(\.path) == ["weight"])
        for seed in testSeeds {
            randomizeAffine(norm, seed: seed)
            let x = randomTensor([3, 2, 5], seed: seed)
            let ref = NNRef.rmsNorm(values(x), weight: values(norm.weight), d: 5, eps: Double(Float(1e-6)))
            expectClose(norm(x), ref, shape: [3, 2, 5], "rmsNorm seed \(seed)")
            expectClose(norm(nonContiguous(x)), ref, "rmsNorm non-contiguous")
        }
        checkModuleGradients(norm, inputs: [randomTensor([3, 2, 5], seed: 12)], "rmsNorm", op: { m, t in m(t[0]) }) { v, p in
            NNRef.rmsNorm(v[0], weight: p["weight"], d: 5, eps: Double(Float(1e-6)))
        }
    }

    // MARK: Batch norm

    @Test(arguments: [[4, 3], [3, 3, 4], [2, 3, 2, 3]])
    func batchNormTrainingUpdatesRunningStatistics(shape: [Int]) {
        let c = 3, spatial = shape.dropFirst(2).reduce(1, *)
        let bn = BatchNorm(c, eps: 1e-5, momentum: 0.1)
        #expect(bn.namedParameters().map(\.path) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        #expect(bn.trainableParameters().map(\.path) == ["weight", "bias"])
        #expect(bn.batchesTracked.dtype == .int64 && bn.batchesTracked.shape == [])
        randomizeAffine(bn, seed: 4)
        var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 1, count: c)
        for (step, seed) in testSeeds.enumerated() {
            let x = randomTensor(shape, seed: seed, low: -1, high: 3)
            let p = parameterValues(bn)
            let ref = NNRef.batchNorm(values(x), n: shape[0], c: c, spatial: spatial, weight: p["weight"], bias: p["bias"],
                                      runningMean: mean, runningVariance: variance, training: true, eps: Double(Float(1e-5)))
            expectClose(bn(x), ref.output, shape: shape, "batchNorm training step \(step)")
            for ch in 0..<c {
                mean[ch] = 0.9 * mean[ch] + 0.1 * ref.mean[ch]
                variance[ch] = 0.9 * variance[ch] + 0.1 * ref.unbiased[ch]
            }
            expectClose(bn.runningMean, mean, shape: [c], "running mean after step \(step)")
            expectClose(bn.runningVariance, variance, shape: [c], "running variance after step \(step)")
            #expect(bn.batchesTracked.toIntArray() == [step + 1] && bn.batchesTracked.dtype == .int64 && bn.batchesTracked.shape == [])
        }
        // evaluation: the running statistics, which stay as they are
        bn.eval()
        let x = randomTensor(shape, seed: 8)
        let p = parameterValues(bn)
        let ref = NNRef.batchNorm(values(x), n: shape[0], c: c, spatial: spatial, weight: p["weight"], bias: p["bias"],
                                  runningMean: mean, runningVariance: variance, training: false, eps: Double(Float(1e-5)))
        expectClose(bn(x), ref.output, shape: shape, "batchNorm eval")
        expectClose(bn(nonContiguous(x)), ref.output, "batchNorm eval non-contiguous")
        expectClose(bn.runningMean, mean, "eval leaves the running mean")
        #expect(bn.batchesTracked.toIntArray() == [testSeeds.count])
    }

    @Test func batchNormWithoutMomentumIsACumulativeAverage() {
        let bn = BatchNorm(2, momentum: nil, affine: false)
        #expect(bn.namedParameters().map(\.path) == ["running_mean", "running_var", "num_batches_tracked"])
        var means: [[Double]] = [], vars: [[Double]] = []
        for seed: UInt64 in [1, 2, 3, 4] {
            let x = randomTensor([3, 2, 2], seed: seed, low: -1, high: 2)
            let ref = NNRef.batchNorm(values(x), n: 3, c: 2, spatial: 2, weight: nil, bias: nil, runningMean: [0, 0],
                                      runningVariance: [1, 1], training: true, eps: Double(Float(1e-5)))
            expectClose(bn(x), ref.output, "batchNorm (momentum nil) output")
            means.append(ref.mean); vars.append(ref.unbiased)
            // PyTorch: factor 1/num_batches_tracked, so after k batches the plain mean of the k
            // batch statistics (the initial 0 / 1 are weighted out by the first factor 1).
            let k = Double(means.count)
            expectClose(bn.runningMean, (0..<2).map { ch in means.map { $0[ch] }.reduce(0, +) / k }, "cumulative mean after \(means.count)")
            expectClose(bn.runningVariance, (0..<2).map { ch in vars.map { $0[ch] }.reduce(0, +) / k }, "cumulative variance after \(means.count)")
            #expect(bn.batchesTracked.toIntArray() == [means.count])
        }
    }

    @Test(arguments: [true, false])
    func batchNormGradients(training: Bool) {
        let bn = BatchNorm(3)
        randomizeAffine(bn, seed: 5)
        // running statistics that are not the identity, for evaluation mode
        bn.update(["running_mean": Tensor([0.5, -0.25, 1]), "running_var": Tensor([0.5, 2, 1.5])])
        bn.train(training)
        let x = randomTensor([2, 3, 4], seed: 13)
        checkModuleGradients(bn, inputs: [x], "batchNorm training \(training)", op: { m, t in m(t[0]) }) { v, p in
            NNRef.batchNorm(v[0], n: 2, c: 3, spatial: 4, weight: p["weight"], bias: p["bias"], runningMean: p["running_mean"]!,
                            runningVariance: p["running_var"]!, training: training, eps: Double(Float(1e-5))).output
        }
    }

    // MARK: Dropout

    @Test func dropoutTrainingScalesAndFollowsTheGenerator() {
        let p: Float = 0.3
        for seed in testSeeds {
            let x = randomTensor([4, 5], seed: seed)
            let drop = Dropout(p, generator: Generator(seed: seed))
            #expect(drop.namedParameters().isEmpty)
            // reference mask drawn independently: one uniform per element in C order, kept below 1 − p
            let g = Generator(seed: seed)
            let keep = (0..<20).map { _ in g.nextDouble() < Double(1 - p) }
            #expect(keep.contains(true) && keep.contains(false), "the mask should mix kept and dropped elements")
            let ref = zip(values(x), keep).map { $1 ? $0 / Double(1 - p) : 0 }
            let y = drop(x)
            expectClose(y, ref, shape: [4, 5], "dropout train seed \(seed)")
            // a second call draws a fresh mask from the advanced generator
            let keep2 = (0..<20).map { _ in g.nextDouble() < Double(1 - p) }
            expectClose(drop(x), zip(values(x), keep2).map { $1 ? $0 / Double(1 - p) : 0 }, "second draw seed \(seed)")
            // same seed, same mask: reproducible; non-contiguous input, same logical mask
            let again = Dropout(p, generator: Generator(seed: seed))
            #expect(again(nonContiguous(x)).toArray() == y.toArray())
        }
    }

    @Test func dropoutEvaluationIsTheIdentity() {
        let drop = Dropout(0.5, generator: Generator(seed: 1))
        drop.eval()
        let x = randomTensor([3, 4], seed: 2)
        #expect(drop(x).toArray() == x.toArray())
        drop.train()
        #expect(drop(x).toArray() != x.toArray())
        let none = Dropout(0, generator: Generator(seed: 1))
        #expect(none(x).toArray() == x.toArray())
    }

    @Test func dropoutGradientFlowsThroughTheMask() {
        let p: Float = 0.4
        let x = randomTensor([3, 4], seed: 21)
        let g = Generator(seed: 77)
        let keep = (0..<12).map { _ in g.nextDouble() < Double(1 - p) }
        // a fresh layer per evaluation, so every evaluation sees the same mask
        checkGradients([x], "dropout", op: { Dropout(p, generator: Generator(seed: 77))($0[0]) }) { v in
            zip(v[0], keep).map { $1 ? $0 / Double(1 - p) : 0 }
        }
    }
}
