import Foundation
import Testing
@testable import OmniNN
@testable import OmniOptim
@testable import OmniTensor

/// A module with one matrix and one vector, so default groups treat them differently.
final class Pair: Module {
    @ParameterInfo(key: "w") var w: Tensor
    @ParameterInfo(key: "b") var b: Tensor
    init(seed: UInt64) {
        super.init()
        let g = Generator(seed: seed)
        w = Tensor.normal([3, 4], generator: g)
        b = Tensor.normal([4], generator: g)
    }
}

/// Float64 reference of torch.optim.Adam/AdamW for one parameter over several steps.
func referenceAdam(_ p0: [Double], grads: [[Double]], lr: Double, b1: Double, b2: Double, eps: Double, wd: Double, decoupled: Bool) -> [Double] {
    var p = p0, m = [Double](repeating: 0, count: p0.count), v = m
    for (t, g0) in grads.enumerated() {
        let step = Double(t + 1)
        for i in 0..<p.count {
            var g = g0[i]
            if decoupled { p[i] *= 1 - lr * wd } else { g += wd * p[i] }
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            let mhat = m[i] / (1 - pow(b1, step)), vhat = v[i] / (1 - pow(b2, step))
            p[i] -= lr * mhat / (vhat.squareRoot() + eps)
        }
    }
    return p
}

func referenceSGD(_ p0: [Double], grads: [[Double]], lr: Double, momentum: Double, dampening: Double, wd: Double, nesterov: Bool) -> [Double] {
    var p = p0, buf: [Double]? = nil
    for g0 in grads {
        var g = zip(g0, p).map { $0 + wd * $1 }
        if momentum != 0 {
            if let b = buf { buf = zip(b, g).map { momentum * $0 + (1 - dampening) * $1 } } else { buf = g }
            g = nesterov ? zip(g, buf!).map { $0 + momentum * $1 } : buf!
        }
        p = zip(p, g).map { $0 - lr * $1 }
    }
    return p
}

func close(_ a: [Float], _ b: [Double], tol: Double = 1e-5) -> Bool {
    zip(a, b).allSatisfy { Swift.abs(Double($0) - $1) <= tol * Swift.max(1, Swift.abs($1)) }
}

@Suite struct OptimizerTests {
    func randomGrads(_ shape: [Int], steps: Int, seed: UInt64) -> [Tensor] {
        let g = Generator(seed: seed)
        return (0..<steps).map { _ in Tensor.normal(shape, generator: g) }
    }

    @Test(arguments: [true, false]) func adamMatchesReference(decoupled: Bool) {
        let model = Pair(seed: 1)
        let w0 = model.w.toArray().map(Double.init), b0 = model.b.toArray().map(Double.init)
        let gw = randomGrads([3, 4], steps: 5, seed: 2), gb = randomGrads([4], steps: 5, seed: 3)
        let opt = decoupled ? AdamW(learningRate: 0.01, weightDecay: 0.1) : Adam(learningRate: 0.01, weightDecay: 0.1)
        for s in 0..<5 { opt.update(model, gradients: ["w": gw[s], "b": gb[s]]) }
        // default groups: AdamW decays only the matrix; Adam (L2) decays everything
        let refW = referenceAdam(w0, grads: gw.map { $0.toArray().map(Double.init) }, lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1, decoupled: decoupled)
        let refB = referenceAdam(b0, grads: gb.map { $0.toArray().map(Double.init) }, lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8,
                                 wd: decoupled ? 0 : 0.1, decoupled: decoupled)
        #expect(close(model.w.toArray(), refW), "w \(model.w.toArray()) vs \(refW)")
        #expect(close(model.b.toArray(), refB), "b \(model.b.toArray()) vs \(refB)")
        #expect(opt.step == 5)
    }

    @Test(arguments: [(0.0, 0.0, false), (0.9, 0.0, false), (0.9, 0.0, true), (0.9, 0.5, false)])
    func sgdMatchesReference(momentum: Double, dampening: Double, nesterov: Bool) {
        let model = Pair(seed: 4)
        let w0 = model.w.toArray().map(Double.init)
        let gw = randomGrads([3, 4], steps: 4, seed: 5)
        let opt = SGD(learningRate: 0.1, momentum: Float(momentum), dampening: Float(dampening), weightDecay: 0.01, nesterov: nesterov)
        for s in 0..<4 { opt.update(model, gradients: ["w": gw[s]]) }
        let ref = referenceSGD(w0, grads: gw.map { $0.toArray().map(Double.init) }, lr: 0.1, momentum: momentum, dampening: dampening, wd: 0.01, nesterov: nesterov)
        #expect(close(model.w.toArray(), ref))
    }

    @Test func stateRoundTripContinuesIdentically() throws {
        let a = Pair(seed: 7), b = Pair(seed: 7)
        let grads = randomGrads([3, 4], steps: 6, seed: 8)
        let optA = AdamW(learningRate: 0.05)
        for s in 0..<6 { optA.update(a, gradients: ["w": grads[s]]) }
        let optB = AdamW(learningRate: 0.05)
        for s in 0..<3 { optB.update(b, gradients: ["w": grads[s]]) }
        let saved = optB.stateDict()
        let optC = AdamW(learningRate: 0.05)
        try optC.load(stateDict: saved)
        for s in 3..<6 { optC.update(b, gradients: ["w": grads[s]]) }
        #expect(a.w.toArray() == b.w.toArray(), "resumed optimizer must give bit-identical weights")
        #expect(throws: OptimizerStateError.self) { try optC.load(stateDict: ["step": Tensor([1]), "bogus.w": Tensor.zeros([1])]) }
    }

    @Test func frozenParametersDoNotMove() {
        let model = Pair(seed: 9)
        model.freeze(matching: "b")
        let b0 = model.b.toArray()
        SGD(learningRate: 1).update(model, gradients: ["w": Tensor.ones([3, 4]), "b": Tensor.ones([4])])
        #expect(model.b.toArray() == b0)
    }

    @Test func schedules() {
        let c = LearningRateSchedule.warmupCosine(peak: 1, warmupSteps: 10, totalSteps: 110, minimum: 0.1)
        #expect(Swift.abs(c.learningRate(at: 0) - 0.1) < 1e-6)
        #expect(Swift.abs(c.learningRate(at: 9) - 1) < 1e-6)
        #expect(Swift.abs(c.learningRate(at: 60) - Float(0.1 + 0.9 * 0.5 * (1 + cos(Double.pi * 0.5)))) < 1e-6)
        #expect(c.learningRate(at: 500) == 0.1)
        let l = LearningRateSchedule.warmupLinear(peak: 2, warmupSteps: 0, totalSteps: 100, minimum: 0)
        #expect(Swift.abs(l.learningRate(at: 25) - 1.5) < 1e-6)
        #expect(Swift.abs(LearningRateSchedule.step(initial: 1, stepSize: 10, gamma: 0.5).learningRate(at: 25) - 0.25) < 1e-7)
        #expect(LearningRateSchedule.constant(0.3).learningRate(at: 1000) == 0.3)
    }

    @Test func clippingMatchesFloat64Norm() {
        let g = Generator(seed: 11)
        let grads = ["a": Tensor.normal([5, 5], generator: g), "b": Tensor.normal([7], generator: g)]
        let all = grads.values.flatMap { $0.toArray().map(Double.init) }
        let norm = all.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let (clipped, reported) = clipByGlobalNorm(grads, maxNorm: 1)
        #expect(Swift.abs(Double(reported) - norm) < 1e-5 * norm)
        let after = clipped.values.flatMap { $0.toArray().map(Double.init) }.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(Swift.abs(after - 1) < 1e-4)
        let (same, _) = clipByGlobalNorm(grads, maxNorm: Float(norm * 2))
        #expect(same["a"]!.toArray() == grads["a"]!.toArray())
    }

    @Test func accumulationAveragesMicroBatches() {
        var acc = GradientAccumulator()
        acc.add(["w": Tensor([1, 2] as [Float])])
        acc.add(["w": Tensor([3, 6] as [Float])])
        #expect(acc.mean()["w"]!.toArray() == [2, 4])
        #expect(acc.count == 2)
    }
}
