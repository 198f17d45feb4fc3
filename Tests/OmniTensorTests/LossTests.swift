import Foundation
import Testing
@testable import OmniTensor

/// Float64 reductions as the losses define them.
func reduceRef(_ loss: [Double], _ reduction: Reduction, batch: Int = 1) -> [Double] {
    switch reduction {
    case .none: return loss
    case .sum: return [loss.reduce(0, +)]
    case .mean: return [loss.reduce(0, +) / Double(loss.count)]
    case .batchMean: return [loss.reduce(0, +) / Double(batch)]
    }
}

/// Plain-loop Float64 cross-entropy over logits [N, C, rest…] (class axis 1), PyTorch semantics.
func crossEntropyReference(_ x: [Double], shape: [Int], targets: [Int], ignoreIndex: Int = -100,
                           smoothing: Double = 0, reduction: Reduction) -> [Double] {
    let n = shape[0], c = shape[1], rest = shape.dropFirst(2).reduce(1, *)
    var loss = [Double](repeating: 0, count: n * rest)
    var counted = 0
    for b in 0..<n {
        for r in 0..<rest {
            let t = targets[b * rest + r]
            if t == ignoreIndex { continue }
            counted += 1
            let row = (0..<c).map { x[(b * c + $0) * rest + r] }
            let m = row.max()!
            let lse = m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
            let nll = lse - row[t]
            let uniform = row.reduce(0) { $0 + (lse - $1) } / Double(c)
            loss[b * rest + r] = (1 - smoothing) * nll + smoothing * uniform
        }
    }
    switch reduction {
    case .mean: return [loss.reduce(0, +) / Double(counted)]
    default: return reduceRef(loss, reduction)
    }
}

let allReductions: [Reduction] = [.none, .mean, .sum]

@Suite struct LossTests {
    // MARK: Cross-entropy

    /// Random targets in 0..<classes, with roughly a fifth set to `ignoreIndex`.
    func randomTargets(_ count: Int, classes: Int, seed: UInt64, ignoreIndex: Int? = -100) -> [Int] {
        let g = Generator(seed: seed)
        return (0..<count).map { _ in
            let t = g.nextInt(below: classes)
            if let ignoreIndex, g.nextDouble() < 0.2 { return ignoreIndex }
            return t
        }
    }

    @Test func crossEntropyMatchesReference() {
        for seed in testSeeds {
            for shape in [[4, 5], [2, 3, 2, 2], [3, 4, 3]] {
                for smoothing in [0.0, 0.2] as [Float] {
                    for reduction in allReductions {
                        var logits = randomTensor(shape, seed: seed, low: -4, high: 4)
                        if seed != 1 { logits = nonContiguous(logits) }
                        var tShape = shape
                        tShape.remove(at: 1)
                        var t = randomTargets(tShape.reduce(1, *), classes: shape[1], seed: seed)
                        t[0] = 1  // at least one target counts
                        let loss = Tensor.crossEntropy(logits: logits, targets: Tensor(t, shape: tShape), labelSmoothing: smoothing,
                                                       reduction: reduction)
                        let ref = crossEntropyReference(values(logits), shape: shape, targets: t, smoothing: Double(smoothing),
                                                        reduction: reduction)
                        expectClose(loss, ref, shape: reduction == .none ? tShape : [],
                                    "crossEntropy \(shape) smoothing \(smoothing) \(reduction) seed \(seed)")
                    }
                }
            }
        }
    }

    @Test func crossEntropyIgnoreIndexInsideTheClassRange() {
        for seed in testSeeds {
            let logits = randomTensor([6, 4], seed: seed)
            let t = randomTargets(6, classes: 4, seed: seed, ignoreIndex: nil)
            for reduction in allReductions {
                // int32 targets; class 2 is ignored
                let loss = Tensor.crossEntropy(logits: logits, targets: Tensor(t, shape: [6], dtype: .int32), ignoreIndex: 2,
                                               labelSmoothing: 0.1, reduction: reduction)
                let ref = crossEntropyReference(values(logits), shape: [6, 4], targets: t, ignoreIndex: 2, smoothing: 0.1,
                                                reduction: reduction)
                expectClose(loss, ref, "ignoreIndex 2 \(reduction) seed \(seed)")
            }
        }
    }

    @Test func crossEntropyWithEveryTargetIgnored() {
        let logits = randomTensor([3, 4], seed: 1)
        let targets = Tensor([-100, -100, -100], shape: [3])
        #expect(Tensor.crossEntropy(logits: logits, targets: targets).item().isNaN)  // 0 / 0, as PyTorch
        #expect(Tensor.crossEntropy(logits: logits, targets: targets, reduction: .sum).item() == 0)
        #expect(Tensor.crossEntropy(logits: logits, targets: targets, labelSmoothing: 0.3, reduction: .none).toArray() == [0, 0, 0])
    }

    @Test func crossEntropyOfOneSample() {
        for seed in testSeeds {
            let logits = randomTensor([5], seed: seed)
            for reduction in allReductions {
                let loss = Tensor.crossEntropy(logits: logits, targets: Tensor([3], shape: []), labelSmoothing: 0.25, reduction: reduction)
                let ref = crossEntropyReference(values(logits), shape: [1, 5], targets: [3], smoothing: 0.25, reduction: reduction)
                expectClose(loss, ref, shape: [], "[C] logits \(reduction) seed \(seed)")
            }
        }
    }

    @Test func crossEntropyIsStableForLargeLogits() {
        for seed in testSeeds {
            let logits = randomTensor([4, 6], seed: seed, low: -300, high: 300)
            let t = randomTargets(4, classes: 6, seed: seed, ignoreIndex: nil)
            let loss = Tensor.crossEntropy(logits: logits, targets: Tensor(t), labelSmoothing: 0.1, reduction: .none)
            let ref = crossEntropyReference(values(logits), shape: [4, 6], targets: t, smoothing: 0.1, reduction: .none)
            expectClose(loss, ref, atol: 1e-3, "large logits seed \(seed)")
        }
    }

    @Test func crossEntropyGradients() {
        for seed in testSeeds {
            for (shape, smoothing, reduction) in [([4, 5], 0.0, Reduction.mean), ([4, 5], 0.2, .none), ([2, 3, 2, 2], 0.1, .mean),
                                                  ([3, 4, 3], 0.0, .sum)] as [([Int], Double, Reduction)] {
                var tShape = shape
                tShape.remove(at: 1)
                var t = randomTargets(tShape.reduce(1, *), classes: shape[1], seed: seed)
                t[0] = 0
                let logits = randomTensor(shape, seed: seed, low: -3, high: 3)
                checkGradients([logits, Tensor(t, shape: tShape)], constant: [1],
                               "crossEntropy \(shape) smoothing \(smoothing) \(reduction) seed \(seed)",
                               op: { Tensor.crossEntropy(logits: $0[0], targets: $0[1], labelSmoothing: Float(smoothing), reduction: reduction) },
                               reference: { crossEntropyReference($0[0], shape: shape, targets: $0[1].map { Int($0) },
                                                                  smoothing: smoothing, reduction: reduction) })
            }
        }
    }

    // MARK: Regression losses

    func pairs(_ shape: [Int], seed: UInt64) -> (Tensor, Tensor) {
        var a = randomTensor(shape, seed: seed), b = randomTensor(shape, seed: seed + 50)
        if seed == 2 { a = nonContiguous(a) }
        if seed == 3 { b = nonContiguous(b) }
        return (a, b)
    }

    static func smoothL1Ref(_ d: Double, beta: Double) -> Double {
        Swift.abs(d) < beta ? 0.5 * d * d / beta : Swift.abs(d) - 0.5 * beta
    }

    @Test func regressionLossesMatchReference() {
        for seed in testSeeds {
            for shape in [[3, 4], [2, 3, 2]] {
                let (x, y) = pairs(shape, seed: seed)
                let d = zip(values(x), values(y)).map { $0 - $1 }
                for reduction in allReductions {
                    let s: [Int]? = reduction == .none ? shape : []
                    expectClose(Tensor.mseLoss(input: x, target: y, reduction: reduction), reduceRef(d.map { $0 * $0 }, reduction),
                                shape: s, "mse \(shape) \(reduction) seed \(seed)")
                    expectClose(Tensor.l1Loss(input: x, target: y, reduction: reduction), reduceRef(d.map { Swift.abs($0) }, reduction),
                                shape: s, "l1 \(shape) \(reduction) seed \(seed)")
                    for beta in [1.0, 0.5, 0.0] {
                        expectClose(Tensor.smoothL1Loss(input: x, target: y, beta: Float(beta), reduction: reduction),
                                    reduceRef(d.map { Self.smoothL1Ref($0, beta: beta) }, reduction),
                                    shape: s, "smoothL1 beta \(beta) \(shape) \(reduction) seed \(seed)")
                    }
                }
            }
        }
    }

    @Test func regressionLossesOfEmptyTensors() {
        let e = Tensor.zeros([0, 3])
        #expect(Tensor.mseLoss(input: e, target: e, reduction: .sum).item() == 0)
        #expect(Tensor.mseLoss(input: e, target: e).item().isNaN)  // mean of nothing, as PyTorch
        #expect(Tensor.l1Loss(input: e, target: e, reduction: .none).shape == [0, 3])
    }

    @Test func regressionLossGradients() {
        for seed in testSeeds {
            for reduction in allReductions {
                let shape = [3, 4]
                let (x, y) = pairs(shape, seed: seed)
                checkGradients([x, y], "mse \(reduction) seed \(seed)",
                               op: { Tensor.mseLoss(input: $0[0], target: $0[1], reduction: reduction) },
                               reference: { reduceRef(zip($0[0], $0[1]).map { ($0 - $1) * ($0 - $1) }, reduction) })
                checkGradients([x, y], "l1 \(reduction) seed \(seed)",
                               op: { Tensor.l1Loss(input: $0[0], target: $0[1], reduction: reduction) },
                               reference: { reduceRef(zip($0[0], $0[1]).map { Swift.abs($0 - $1) }, reduction) })
                for beta in [1.0, 0.5, 0.0] {
                    checkGradients([x, y], "smoothL1 beta \(beta) \(reduction) seed \(seed)",
                                   op: { Tensor.smoothL1Loss(input: $0[0], target: $0[1], beta: Float(beta), reduction: reduction) },
                                   reference: { reduceRef(zip($0[0], $0[1]).map { Self.smoothL1Ref($0 - $1, beta: beta) }, reduction) })
                }
            }
        }
    }

    // MARK: Binary cross-entropy with logits

    /// Stable Float64 form: (1 − y)·x + (1 + (w − 1)·y)·(log1p(e^−|x|) + max(−x, 0)).
    static func bceRef(_ x: [Double], _ y: [Double], posWeight: [Double]?, classes: Int) -> [Double] {
        x.indices.map { i in
            let w = posWeight.map { $0[$0.count == 1 ? 0 : i % classes] } ?? 1
            let sp = Foundation.log1p(Foundation.exp(-Swift.abs(x[i]))) + Swift.max(-x[i], 0)
            return (1 - y[i]) * x[i] + (1 + (w - 1) * y[i]) * sp
        }
    }

    @Test func binaryCrossEntropyWithLogitsMatchesReference() {
        for seed in testSeeds {
            let shape = [4, 3]
            var xv = values(randomTensor(shape, seed: seed, low: -6, high: 6))
            xv[0] = 80; xv[1] = -80; xv[2] = 30; xv[3] = -30  // far into both tails
            var x = Tensor(xv, shape: shape)
            var yv = values(randomTensor(shape, seed: seed + 1, low: 0, high: 1))
            yv[0] = 0; yv[1] = 1; yv[4] = 1; yv[5] = 0
            var y = Tensor(yv, shape: shape)
            if seed == 2 { x = nonContiguous(x) }
            if seed == 3 { y = nonContiguous(y) }
            let pw = randomTensor([3], seed: seed + 2, low: 0.5, high: 3)
            for reduction in allReductions {
                expectClose(Tensor.binaryCrossEntropyWithLogits(logits: x, targets: y, reduction: reduction),
                            reduceRef(Self.bceRef(xv, yv, posWeight: nil, classes: 3), reduction),
                            shape: reduction == .none ? shape : [], "bce \(reduction) seed \(seed)")
                expectClose(Tensor.binaryCrossEntropyWithLogits(logits: x, targets: y, posWeight: pw, reduction: reduction),
                            reduceRef(Self.bceRef(xv, yv, posWeight: values(pw), classes: 3), reduction),
                            "bce posWeight \(reduction) seed \(seed)")
            }
            let loss = Tensor.binaryCrossEntropyWithLogits(logits: x, targets: y, posWeight: pw, reduction: .none).toArray()
            #expect(loss.allSatisfy { $0.isFinite })
        }
    }

    @Test func binaryCrossEntropyWithLogitsGradients() {
        for seed in testSeeds {
            let shape = [3, 4]
            let x = randomTensor(shape, seed: seed, low: -5, high: 5)
            let y = randomTensor(shape, seed: seed + 1, low: 0, high: 1)
            let pw = randomTensor([4], seed: seed + 2, low: 0.5, high: 3)
            for reduction in [Reduction.mean, .none] {
                checkGradients([x, y], "bce \(reduction) seed \(seed)",
                               op: { Tensor.binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1], reduction: reduction) },
                               reference: { reduceRef(Self.bceRef($0[0], $0[1], posWeight: nil, classes: 4), reduction) })
                checkGradients([x, y, pw], "bce posWeight \(reduction) seed \(seed)",
                               op: { Tensor.binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1], posWeight: $0[2], reduction: reduction) },
                               reference: { reduceRef(Self.bceRef($0[0], $0[1], posWeight: $0[2], classes: 4), reduction) })
            }
        }
    }

    // MARK: KL divergence

    static func klRef(_ input: [Double], _ target: [Double], logTarget: Bool) -> [Double] {
        zip(input, target).map { x, t in
            logTarget ? Foundation.exp(t) * (t - x) : (t == 0 ? 0 : t * (Foundation.log(t) - x))
        }
    }

    @Test func klDivergenceMatchesReference() {
        for seed in testSeeds {
            let shape = [3, 5]
            var input = randomTensor(shape, seed: seed).logSoftmax(axis: -1)
            var probs = values(randomTensor(shape, seed: seed + 1).softmax(axis: -1))
            probs[1] = 0; probs[7] = 0  // 0 · log 0 = 0
            var target = Tensor(probs, shape: shape)
            if seed == 2 { input = nonContiguous(input) }
            if seed == 3 { target = nonContiguous(target) }
            let logTarget = randomTensor(shape, seed: seed + 2).logSoftmax(axis: -1)
            for reduction in allReductions + [.batchMean] {
                let s: [Int]? = reduction == .none ? shape : []
                expectClose(Tensor.klDivergence(input: input, target: target, reduction: reduction),
                            reduceRef(Self.klRef(values(input), probs, logTarget: false), reduction, batch: 3),
                            shape: s, "kl \(reduction) seed \(seed)")
                expectClose(Tensor.klDivergence(input: input, target: logTarget, logTarget: true, reduction: reduction),
                            reduceRef(Self.klRef(values(input), values(logTarget), logTarget: true), reduction, batch: 3),
                            shape: s, "kl logTarget \(reduction) seed \(seed)")
            }
        }
    }

    @Test func klDivergenceGradients() {
        for seed in testSeeds {
            let shape = [3, 4]
            let input = randomTensor(shape, seed: seed).logSoftmax(axis: -1)
            let target = randomTensor(shape, seed: seed + 1).softmax(axis: -1)
            let logTarget = randomTensor(shape, seed: seed + 2, low: -3, high: 0)
            for reduction in [Reduction.batchMean, .none, .mean] {
                checkGradients([input, target], "kl \(reduction) seed \(seed)",
                               op: { Tensor.klDivergence(input: $0[0], target: $0[1], reduction: reduction) },
                               reference: { reduceRef(Self.klRef($0[0], $0[1], logTarget: false), reduction, batch: 3) })
                checkGradients([input, logTarget], "kl logTarget \(reduction) seed \(seed)",
                               op: { Tensor.klDivergence(input: $0[0], target: $0[1], logTarget: true, reduction: reduction) },
                               reference: { reduceRef(Self.klRef($0[0], $0[1], logTarget: true), reduction, batch: 3) })
            }
            // zero target probabilities: finite gradients; toward the target there, only −input (the
            // t·log t term passes none, where the true one-sided derivative is −∞)
            var pv = values(target)
            pv[2] = 0; pv[5] = 0
            let withZeros = Tensor(pv, shape: shape)
            checkGradients([input, withZeros], constant: [1], "kl with zero targets seed \(seed)",
                           op: { Tensor.klDivergence(input: $0[0], target: $0[1], reduction: .sum) },
                           reference: { reduceRef(Self.klRef($0[0], $0[1], logTarget: false), .sum) })
            let (_, grads) = valueAndGrad([input, withZeros]) { Tensor.klDivergence(input: $0[0], target: $0[1], reduction: .sum) }
            let gt = grads[1].toArray(), x = input.toArray()
            #expect(gt[2] == -x[2] && gt[5] == -x[5] && gt.allSatisfy { $0.isFinite }, "\(gt) for input \(x)")
        }
    }

    // MARK: Misuse

    @Test func targetOutOfRangeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.crossEntropy(logits: Tensor.zeros([3, 5]), targets: Tensor([0, 5, 1]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("crossEntropy: target 5 at position [1] is out of range for 5 classes"), "stderr was: \(stderr)")
    }

    @Test func negativeTargetStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.crossEntropy(logits: Tensor.zeros([2, 3, 2]), targets: Tensor([0, 1, 2, -1], shape: [2, 2]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("target -1 at position [1, 1] is out of range for 3 classes"), "stderr was: \(stderr)")
    }

    @Test func crossEntropyShapeMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.crossEntropy(logits: Tensor.zeros([4, 5]), targets: Tensor([0, 1, 2]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("targets of shape [3] do not match logits of shape [4, 5]: expected [4]"), "stderr was: \(stderr)")
    }

    @Test func regressionShapeMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.mseLoss(input: Tensor.zeros([2, 3]), target: Tensor.zeros([3, 2]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("mseLoss: input of shape [2, 3] and target of shape [3, 2] differ"), "stderr was: \(stderr)")
    }

    @Test func batchMeanOutsideKLStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.l1Loss(input: Tensor.zeros([2, 3]), target: Tensor.zeros([2, 3]), reduction: .batchMean)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("l1Loss: reduction .batchMean applies only to klDivergence"), "stderr was: \(stderr)")
    }

    @Test func badPosWeightStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.binaryCrossEntropyWithLogits(logits: Tensor.zeros([2, 3]), targets: Tensor.zeros([2, 3]),
                                                    posWeight: Tensor.zeros([2]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("posWeight of shape [2] does not broadcast to logits of shape [2, 3]"), "stderr was: \(stderr)")
    }
}
