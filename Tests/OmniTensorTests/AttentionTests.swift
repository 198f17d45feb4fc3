import Foundation
import Testing
@testable import OmniTensor

/// Masks for the Float64 attention reference; each mask has its own shape and broadcasts to the
/// scores' shape (lead + [Tq, Tk]).
struct AttentionMasks {
    var keyPadding: [Bool]? = nil          // [B, Tk]
    var allowed: ([Bool], [Int])? = nil    // bool mask, true = attend
    var additive: ([Double], [Int])? = nil // added to the scores
    var causal = false
    var window: Int? = nil
}

/// Plain-loop Float64 scaled dot-product attention over `lead` = [B, H] or [B]; rows with no
/// allowed key give zero weights and zero output (the documented choice).
func attentionReference(q: [Double], k: [Double], v: [Double], lead: [Int], tq: Int, tk: Int, d: Int, dv: Int,
                        scale: Double, masks: AttentionMasks = AttentionMasks(),
                        dropKeep: [Double]? = nil, dropout: Double = 0) -> (out: [Double], weights: [Double]) {
    let target = lead + [tq, tk]
    func pick(_ s: [Int], _ idx: [Int]) -> Int {
        let off = target.count - s.count
        return Ref.flat(s.indices.map { s[$0] == 1 ? 0 : idx[$0 + off] }, s)
    }
    let nLead = lead.reduce(1, *)
    let perBatch = nLead / lead[0]
    var out = [Double](repeating: 0, count: nLead * tq * dv)
    var weights = [Double](repeating: 0, count: nLead * tq * tk)
    for l in 0..<nLead {
        let b = l / perBatch
        let leadIdx = Ref.index(l, lead)
        for i in 0..<tq {
            var scores = [Double](repeating: 0, count: tk)
            var allowed = [Bool](repeating: true, count: tk)
            let aligned = i + (tk - tq)
            for j in 0..<tk {
                var s = 0.0
                for c in 0..<d { s += q[(l * tq + i) * d + c] * k[(l * tk + j) * d + c] }
                s *= scale
                let idx = leadIdx + [i, j]
                if let kp = masks.keyPadding, !kp[b * tk + j] { allowed[j] = false }
                if let (m, s2) = masks.allowed, !m[pick(s2, idx)] { allowed[j] = false }
                if let (a, s2) = masks.additive {
                    let add = a[pick(s2, idx)]
                    if add == -.infinity { allowed[j] = false }
                    s += add
                }
                if masks.causal || masks.window != nil {
                    if j > aligned { allowed[j] = false }
                    if let w = masks.window, j <= aligned - w { allowed[j] = false }
                }
                scores[j] = s
            }
            guard allowed.contains(true) else { continue }  // fully masked row: zeros
            let m = (0..<tk).filter { allowed[$0] }.map { scores[$0] }.max()!
            var e = (0..<tk).map { allowed[$0] ? Foundation.exp(scores[$0] - m) : 0 }
            let total = e.reduce(0, +)
            for j in 0..<tk { e[j] /= total; weights[(l * tq + i) * tk + j] = e[j] }
            for j in 0..<tk {
                var w = e[j]
                if let dropKeep { w *= dropKeep[(l * tq + i) * tk + j] / (1 - dropout) }
                for c in 0..<dv { out[(l * tq + i) * dv + c] += w * v[(l * tk + j) * dv + c] }
            }
        }
    }
    return (out, weights)
}

/// Random bools (true with probability `p`) from a seeded generator.
func randomBools(_ n: Int, seed: UInt64, p: Double = 0.6) -> [Bool] {
    let g = Generator(seed: seed)
    return (0..<n).map { _ in g.nextDouble() < p }
}

@Suite struct AttentionTests {
    /// Shapes for [B, H, T, D] and [B, T, D] runs: (lead, Tq, Tk, D, Dv).
    static let shapes: [([Int], Int, Int, Int, Int)] = [([2, 2], 3, 5, 4, 3), ([2, 2], 4, 4, 4, 4), ([2], 4, 3, 4, 2), ([2, 2], 5, 3, 4, 4)]

    func inputs(_ lead: [Int], _ tq: Int, _ tk: Int, _ d: Int, _ dv: Int, seed: UInt64, strided: Bool) -> (Tensor, Tensor, Tensor) {
        var q = randomTensor(lead + [tq, d], seed: seed), k = randomTensor(lead + [tk, d], seed: seed + 100)
        var v = randomTensor(lead + [tk, dv], seed: seed + 200)
        if strided { q = nonContiguous(q); k = nonContiguous(k); v = nonContiguous(v) }
        return (q, k, v)
    }

    func expectMatches(_ r: AttentionResult, q: Tensor, k: Tensor, v: Tensor, lead: [Int], tq: Int, tk: Int, d: Int, dv: Int,
                       scale: Double? = nil, masks: AttentionMasks = AttentionMasks(), _ what: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        let ref = attentionReference(q: values(q), k: values(k), v: values(v), lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                                     scale: scale ?? 1 / Double(d).squareRoot(), masks: masks)
        expectClose(r.output, ref.out, shape: lead + [tq, dv], "\(what) output", sourceLocation: sourceLocation)
        if let w = r.weights {
            expectClose(w, ref.weights, shape: lead + [tq, tk], "\(what) weights", sourceLocation: sourceLocation)
        } else {
            Issue.record("\(what): weights were not returned", sourceLocation: sourceLocation)
        }
    }

    @Test func unmaskedMatchesReference() {
        for seed in testSeeds {
            for (lead, tq, tk, d, dv) in Self.shapes {
                for strided in [false, true] {
                    let (q, k, v) = inputs(lead, tq, tk, d, dv, seed: seed, strided: strided)
                    let r = Tensor.scaledDotProductAttention(query: q, key: k, value: v, returnWeights: true)
                    expectMatches(r, q: q, k: k, v: v, lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                                  "seed \(seed) \(lead) Tq \(tq) Tk \(tk) strided \(strided)")
                }
            }
        }
    }

    @Test func weightsAreOmittedUnlessRequested() {
        let (q, k, v) = inputs([2, 2], 3, 4, 4, 4, seed: 1, strided: false)
        #expect(Tensor.scaledDotProductAttention(query: q, key: k, value: v).weights == nil)
    }

    @Test func customScale() {
        for seed in testSeeds {
            let (q, k, v) = inputs([2, 2], 3, 5, 4, 3, seed: seed, strided: seed == 2)
            let r = Tensor.scaledDotProductAttention(query: q, key: k, value: v, scale: 0.9, returnWeights: true)
            expectMatches(r, q: q, k: k, v: v, lead: [2, 2], tq: 3, tk: 5, d: 4, dv: 3, scale: Double(Float(0.9)), "scale 0.9 seed \(seed)")
        }
    }

    @Test func keyPaddingMask() {
        for seed in testSeeds {
            for (lead, tq, tk, d, dv) in Self.shapes {
                let (q, k, v) = inputs(lead, tq, tk, d, dv, seed: seed, strided: seed == 3)
                var pad = randomBools(2 * tk, seed: seed)
                pad[0] = true                                       // batch 0 keeps a key
                for j in 0..<tk { pad[tk + j] = seed == 1 ? false : pad[tk + j] }  // seed 1: batch 1 fully padded
                let r = Tensor.scaledDotProductAttention(query: q, key: k, value: v, keyPadding: Tensor(pad, shape: [2, tk]),
                                                         returnWeights: true)
                expectMatches(r, q: q, k: k, v: v, lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                              masks: AttentionMasks(keyPadding: pad), "keyPadding seed \(seed) \(lead) Tq \(tq) Tk \(tk)")
                #expect(!r.output.toArray().contains { $0.isNaN })
            }
        }
    }

    @Test func boolMasksBroadcast() {
        for seed in testSeeds {
            let lead = [2, 2], tq = 3, tk = 5, d = 4, dv = 3
            let (q, k, v) = inputs(lead, tq, tk, d, dv, seed: seed, strided: seed != 1)
            for maskShape in [[tq, tk], [2, 1, tq, tk], [1, 2, 1, tk], [2, 2, tq, 1]] {
                var m = randomBools(maskShape.reduce(1, *), seed: seed &+ UInt64(maskShape.count))
                if maskShape == [tq, tk] { for j in 0..<tk { m[tk + j] = false } }  // query 1 fully masked everywhere
                var mask = Tensor(m, shape: maskShape)
                if seed == 2 && maskShape.count == 4 { mask = nonContiguous(mask) }
                let r = Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: mask, returnWeights: true)
                expectMatches(r, q: q, k: k, v: v, lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                              masks: AttentionMasks(allowed: (m, maskShape)), "bool mask \(maskShape) seed \(seed)")
            }
        }
    }

    @Test func additiveMask() {
        for seed in testSeeds {
            let lead = [2, 2], tq = 4, tk = 3, d = 4, dv = 4
            let (q, k, v) = inputs(lead, tq, tk, d, dv, seed: seed, strided: seed == 2)
            let shape = [1, 2, tq, tk]
            var a = values(randomTensor(shape, seed: seed + 7))
            let drop = randomBools(a.count, seed: seed + 8, p: 0.3)
            for i in a.indices where drop[i] { a[i] = -.infinity }
            for j in 0..<tk { a[(1 * tq + 2) * tk + j] = -.infinity }  // head 1, query 2: every key -inf
            var mask = Tensor(a, shape: shape)
            if seed == 3 { mask = nonContiguous(mask) }
            let r = Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: mask, returnWeights: true)
            expectMatches(r, q: q, k: k, v: v, lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                          masks: AttentionMasks(additive: (a, shape)), "additive mask seed \(seed)")
            #expect(!r.output.toArray().contains { $0.isNaN })
        }
    }

    @Test func causalAndWindowBands() {
        for seed in testSeeds {
            for (tq, tk) in [(4, 4), (2, 5), (5, 3), (1, 4)] {
                for (causal, window) in [(true, nil), (false, 1), (true, 1), (true, 2), (false, 3), (true, 10)] as [(Bool, Int?)] {
                    let lead = [2, 2], d = 4, dv = 3
                    let (q, k, v) = inputs(lead, tq, tk, d, dv, seed: seed, strided: seed == 3)
                    let r = Tensor.scaledDotProductAttention(query: q, key: k, value: v, isCausal: causal, window: window,
                                                             returnWeights: true)
                    expectMatches(r, q: q, k: k, v: v, lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                                  masks: AttentionMasks(causal: causal, window: window),
                                  "causal \(causal) window \(window.map(String.init) ?? "nil") Tq \(tq) Tk \(tk) seed \(seed)")
                }
            }
        }
    }

    /// Query i attends exactly the keys j with i' − window < j ≤ i', i' = i + Tk − Tq (spelled out).
    @Test func bandPattern() {
        let band = Tensor.attentionBand(queries: 2, keys: 5, window: 2).toBoolArray()
        // i' = 3: keys 2, 3; i' = 4: keys 3, 4
        #expect(band == [false, false, true, true, false,
                         false, false, false, true, true])
        let causal = Tensor.attentionBand(queries: 3, keys: 2, window: nil).toBoolArray()
        // i' = -1, 0, 1
        #expect(causal == [false, false, true, false, true, true])
    }

    @Test func masksCombine() {
        for seed in testSeeds {
            for lead in [[2, 2], [2]] {
                let tq = 3, tk = 5, d = 4, dv = 4
                let (q, k, v) = inputs(lead, tq, tk, d, dv, seed: seed, strided: seed == 1)
                var pad = randomBools(2 * tk, seed: seed + 3, p: 0.7)
                pad[tk - 1] = true
                let allowShape = [tq, tk]
                let allow = randomBools(tq * tk, seed: seed + 4, p: 0.8)
                let addShape = lead + [tq, tk]
                let add = values(randomTensor(addShape, seed: seed + 5))
                let r = Tensor.scaledDotProductAttention(query: q, key: k, value: v, keyPadding: Tensor(pad, shape: [2, tk]),
                                                         mask: Tensor(add, shape: addShape), isCausal: true, window: 2,
                                                         returnWeights: true)
                expectMatches(r, q: q, k: k, v: v, lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                              masks: AttentionMasks(keyPadding: pad, additive: (add, addShape), causal: true, window: 2),
                              "padding + additive + causal window \(lead) seed \(seed)")
                let r2 = Tensor.scaledDotProductAttention(query: q, key: k, value: v, keyPadding: Tensor(pad, shape: [2, tk]),
                                                          mask: Tensor(allow, shape: allowShape), window: 3, returnWeights: true)
                expectMatches(r2, q: q, k: k, v: v, lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                              masks: AttentionMasks(keyPadding: pad, allowed: (allow, allowShape), window: 3),
                              "padding + bool + window \(lead) seed \(seed)")
            }
        }
    }

    /// Masked keys get weight exactly 0 (exp(-inf) is 0 in the kernels, not the smallest subnormal).
    @Test func maskedWeightsAreExactlyZero() {
        #expect(Tensor([-Float.infinity, -1000, -104, 0], shape: [4]).exp().toArray() == [0, 0, 0, 1])
        let (q, k, v) = inputs([2, 2], 4, 4, 4, 4, seed: 1, strided: false)
        let w = Tensor.scaledDotProductAttention(query: q, key: k, value: v, isCausal: true, returnWeights: true).weights!
        let wv = w.toArray()
        for l in 0..<4 { for i in 0..<4 { for j in (i + 1)..<4 { #expect(wv[(l * 4 + i) * 4 + j] == 0) } } }
    }

    @Test func fullyMaskedRowsGiveZeroOutputAndGradient() {
        let (q, k, v) = inputs([2, 2], 3, 4, 4, 4, seed: 2, strided: false)
        let pad = Tensor([true, true, false, true, false, false, false, false], shape: [2, 4])
        let (value, grads) = valueAndGrad([q, k, v]) { p in
            Tensor.scaledDotProductAttention(query: p[0], key: p[1], value: p[2], keyPadding: pad).output.square().sum()
        }
        #expect(!value.item().isNaN)
        // batch 1 has no keys: its output is 0 and nothing flows into its q, k, v
        for g in grads {
            let gv = g.toArray()
            #expect(!gv.contains { $0.isNaN })
            #expect(gv[(gv.count / 2)...].allSatisfy { $0 == 0 })
            #expect(gv[..<(gv.count / 2)].contains { $0 != 0 })
        }
        let out = Tensor.scaledDotProductAttention(query: q, key: k, value: v, keyPadding: pad).output.toArray()
        #expect(out[(out.count / 2)...].allSatisfy { $0 == 0 })
    }

    @Test func dropoutUsesTheGeneratorsBernoulliDraw() {
        for seed in testSeeds {
            let lead = [2, 2], tq = 3, tk = 4, d = 4, dv = 3, p: Float = 0.25
            let (q, k, v) = inputs(lead, tq, tk, d, dv, seed: seed, strided: seed == 2)
            let r = Tensor.scaledDotProductAttention(query: q, key: k, value: v, isCausal: true, dropout: p,
                                                     generator: Generator(seed: seed), returnWeights: true)
            let kept = values(Tensor.bernoulli(lead + [tq, tk], p: 1 - p, generator: Generator(seed: seed)))
            #expect(kept.contains(0) && kept.contains(1))
            let ref = attentionReference(q: values(q), k: values(k), v: values(v), lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                                         scale: 0.5, masks: AttentionMasks(causal: true), dropKeep: kept, dropout: Double(p))
            expectClose(r.output, ref.out, shape: lead + [tq, dv], "dropout output seed \(seed)")
            expectClose(r.weights!, ref.weights, "weights are returned before dropout, seed \(seed)")
        }
    }

    @Test func zeroSizedSequences() {
        let q = randomTensor([2, 2, 3, 4], seed: 1), v0 = Tensor.zeros([2, 2, 0, 4])
        let r = Tensor.scaledDotProductAttention(query: q, key: Tensor.zeros([2, 2, 0, 4]), value: v0, isCausal: true,
                                                 returnWeights: true)
        expectClose(r.output, [Double](repeating: 0, count: 48), shape: [2, 2, 3, 4], "no keys")
        #expect(r.weights!.shape == [2, 2, 3, 0])
        let k = randomTensor([2, 2, 5, 4], seed: 2), v = randomTensor([2, 2, 5, 3], seed: 3)
        let r2 = Tensor.scaledDotProductAttention(query: Tensor.zeros([2, 2, 0, 4]), key: k, value: v,
                                                  keyPadding: Tensor([Bool](repeating: true, count: 10), shape: [2, 5]), isCausal: true)
        #expect(r2.output.shape == [2, 2, 0, 3])
    }

    // MARK: Gradients

    @Test func gradientsUnmasked() {
        for seed in testSeeds {
            for (lead, tq, tk, d, dv) in [([2, 2], 3, 4, 4, 3), ([2], 4, 3, 4, 4)] {
                let (q, k, v) = inputs(lead, tq, tk, d, dv, seed: seed, strided: seed == 2)
                let scale = 1 / Double(d).squareRoot()
                checkGradients([q, k, v], "attention \(lead) seed \(seed)",
                               op: { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2]).output },
                               reference: { attentionReference(q: $0[0], k: $0[1], v: $0[2], lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                                                               scale: scale).out })
            }
        }
    }

    @Test func gradientsMasked() {
        let lead = [2, 2], d = 4, dv = 4
        for seed in testSeeds {
            for (tq, tk) in [(3, 5), (4, 3)] {
                let (q, k, v) = inputs(lead, tq, tk, d, dv, seed: seed, strided: seed == 3)
                // batch 1 keeps only key 0, so with Tq > Tk its first causal rows are empty
                let pad = (0..<(2 * tk)).map { $0 < tk ? $0 != 1 : $0 == tk }
                let masks = AttentionMasks(keyPadding: pad, causal: true, window: 2)
                checkGradients([q, k, v], "masked attention Tq \(tq) Tk \(tk) seed \(seed)",
                               op: {
                                   Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2],
                                                                    keyPadding: Tensor(pad, shape: [2, tk]), isCausal: true, window: 2).output
                               },
                               reference: { attentionReference(q: $0[0], k: $0[1], v: $0[2], lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                                                               scale: 0.5, masks: masks).out })
            }
        }
    }

    @Test func gradientsThroughAdditiveMaskAndWeights() {
        let lead = [2, 2], tq = 3, tk = 4, d = 4, dv = 3
        for seed in testSeeds {
            let (q, k, v) = inputs(lead, tq, tk, d, dv, seed: seed, strided: false)
            let bias = randomTensor([1, 2, tq, tk], seed: seed + 11)
            let allow = randomBools(tq * tk, seed: seed + 12, p: 0.7)
            var pad = randomBools(2 * tk, seed: seed + 13, p: 0.7)
            pad[0] = true
            func masks(_ b: [Double]) -> AttentionMasks { AttentionMasks(keyPadding: pad, additive: (b, [1, 2, tq, tk])) }
            checkGradients([q, k, v, bias], "attention with a learned bias, seed \(seed)",
                           op: {
                               Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2],
                                                                keyPadding: Tensor(pad, shape: [2, tk]), mask: $0[3]).output
                           },
                           reference: { attentionReference(q: $0[0], k: $0[1], v: $0[2], lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                                                           scale: 0.5, masks: masks($0[3])).out })
            // the weights as an output, with a large negative additive mask and a causal band
            checkGradients([q, k, bias], "attention weights, seed \(seed)",
                           op: {
                               Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: v,
                                                                mask: $0[2] + Tensor(allow, shape: [tq, tk]).logicalNot().converted(to: .float32) * -1e30,
                                                                isCausal: true, returnWeights: true).weights!
                           },
                           reference: { x in
                               var b = x[2]
                               for l in 0..<2 { for i in 0..<(tq * tk) where !allow[i] { b[l * tq * tk + i] = -1e30 } }
                               return attentionReference(q: x[0], k: x[1], v: values(v), lead: lead, tq: tq, tk: tk, d: d, dv: dv,
                                                         scale: 0.5, masks: AttentionMasks(additive: (b, [1, 2, tq, tk]), causal: true)).weights
                           })
        }
    }

    // MARK: Misuse

    @Test func mismatchedKeyStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.scaledDotProductAttention(query: Tensor.zeros([2, 2, 3, 4]), key: Tensor.zeros([2, 2, 5, 8]),
                                                 value: Tensor.zeros([2, 2, 5, 4]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("scaledDotProductAttention: key [2, 2, 5, 8] does not match query [2, 2, 3, 4]: expected [2, 2, 5, 4]"),
                "stderr was: \(stderr)")
    }

    @Test func mismatchedValueStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.scaledDotProductAttention(query: Tensor.zeros([2, 3, 4]), key: Tensor.zeros([2, 5, 4]),
                                                 value: Tensor.zeros([2, 4, 4]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("value [2, 4, 4] does not match key [2, 5, 4]"), "stderr was: \(stderr)")
    }

    @Test func badMaskShapeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.scaledDotProductAttention(query: Tensor.zeros([2, 2, 3, 4]), key: Tensor.zeros([2, 2, 5, 4]),
                                                 value: Tensor.zeros([2, 2, 5, 4]), mask: Tensor.zeros([3, 4]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("mask of shape [3, 4] does not broadcast to the scores' shape [2, 2, 3, 5]"), "stderr was: \(stderr)")
    }

    @Test func badKeyPaddingShapeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.scaledDotProductAttention(query: Tensor.zeros([2, 2, 3, 4]), key: Tensor.zeros([2, 2, 5, 4]),
                                                 value: Tensor.zeros([2, 2, 5, 4]),
                                                 keyPadding: Tensor([Bool](repeating: true, count: 6), shape: [2, 3]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("keyPadding must be a bool [B, Tk] = [2, 5] mask"), "stderr was: \(stderr)")
        #expect(stderr.contains("got bool [2, 3]"), "stderr was: \(stderr)")
    }
}
