import Foundation
import OmniData
import OmniNN
import OmniTensor
import Testing
@testable import OmniModels

/// Float64 building blocks for references computed from a module's own weights.
private enum R {
    /// x [n, in] · Wᵀ + b with W [out, in] from the state dict.
    static func linear(_ x: [Double], n: Int, _ sd: [String: Tensor], _ prefix: String) -> [Double] {
        let w = values(sd[prefix + ".weight"]!), b = values(sd[prefix + ".bias"]!)
        let out = b.count, inp = w.count / out
        var y = [Double](repeating: 0, count: n * out)
        for i in 0..<n { for o in 0..<out {
            var s = b[o]
            for k in 0..<inp { s += x[i * inp + k] * w[o * inp + k] }
            y[i * out + o] = s
        } }
        return y
    }

    static func layerNorm(_ x: [Double], n: Int, _ sd: [String: Tensor], _ prefix: String, eps: Double = 1e-5) -> [Double] {
        let g = values(sd[prefix + ".weight"]!), b = values(sd[prefix + ".bias"]!)
        let d = g.count
        var y = x
        for i in 0..<n {
            let row = x[(i * d)..<((i + 1) * d)]
            let mean = row.reduce(0, +) / Double(d)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d)
            for j in 0..<d { y[i * d + j] = (x[i * d + j] - mean) / (variance + eps).squareRoot() * g[j] + b[j] }
        }
        return y
    }

    static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())) }
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    static func mlp(_ x: [Double], n: Int, _ sd: [String: Tensor], _ prefix: String) -> [Double] {
        linear(linear(x, n: n, sd, prefix + ".fc1").map(gelu), n: n, sd, prefix + ".fc2")
    }

    /// Multi-head cross-attention of one sample: q [nq, D], kv [nk, D], keep [nk].
    static func attention(_ q: [Double], nq: Int, _ kv: [Double], nk: Int, keep: [Bool], heads: Int,
                          _ sd: [String: Tensor], _ prefix: String) -> [Double] {
        let qp = linear(q, n: nq, sd, prefix + ".q_proj"), kp = linear(kv, n: nk, sd, prefix + ".k_proj")
        let vp = linear(kv, n: nk, sd, prefix + ".v_proj")
        let d = qp.count / nq, dh = d / heads
        var merged = [Double](repeating: 0, count: nq * d)
        for h in 0..<heads { for i in 0..<nq {
            var scores = [Double](repeating: -.infinity, count: nk)
            for j in 0..<nk where keep[j] {
                var s = 0.0
                for c in 0..<dh { s += qp[i * d + h * dh + c] * kp[j * d + h * dh + c] }
                scores[j] = s / Double(dh).squareRoot()
            }
            let mx = scores.max()!
            guard mx > -.infinity else { continue }
            let e = scores.map { Foundation.exp($0 - mx) }, z = e.reduce(0, +)
            for c in 0..<dh {
                var s = 0.0
                for j in 0..<nk where keep[j] { s += e[j] / z * vp[j * d + h * dh + c] }
                merged[i * d + h * dh + c] = s
            }
        } }
        return linear(merged, n: nq, sd, prefix + ".out_proj")
    }

    static func masked(_ t: Tensor, sample b: Int) -> [Double] { values(t.narrowed(axis: 0, start: b, length: 1)) }
}

/// Tokens [B, N, D] of random values with the given real lengths (zeros where padded).
private func tokens(_ lengths: [Int], n: Int, d: Int, seed: UInt64) -> ModalityTokens {
    let maskValues = lengths.flatMap { l in (0..<n).map { $0 < l } }
    let mask = Tensor(maskValues, shape: [lengths.count, n])
    return ModalityTokens(tokens: randomTensor([lengths.count, n, d], seed: seed), mask: mask).zeroingPadding()
}

@Suite struct RouterTests {
    let d = 8, dt = 6

    @Test func gatesMatchAFloat64ReferenceAndFollowTheTask() {
        let router = DynamicAttentionRouter(modalities: [.text, .image], dimension: d, taskDimension: dt,
                                            hiddenSize: 5, generator: Generator(seed: 1))
        let text = tokens([3, 5], n: 5, d: d, seed: 2), image = tokens([4, 2], n: 4, d: d, seed: 3)
        let task = randomTensor([2, dt], seed: 4)
        let r = router([.text: text, .image: image], taskEmbedding: task)
        #expect(r.modalities == [.text, .image])
        #expect(r.gates.shape == [2, 2])
        let sd = router.stateDict()
        var expected: [Double] = []
        for b in 0..<2 {
            for (m, s) in [(Modality.text, text), (.image, image)] {
                let n = s.length, l = s.mask.toBoolArray()[(b * n)..<((b + 1) * n)].filter { $0 }.count
                let x = R.masked(s.tokens, sample: b)
                var pooled = [Double](repeating: 0, count: d)
                for i in 0..<l { for j in 0..<d { pooled[j] += x[i * d + j] / Double(l) } }
                let features = pooled + R.masked(task, sample: b)
                expected.append(R.sigmoid(R.mlp(features, n: 1, sd, "gates.\(m.rawValue)")[0]))
            }
        }
        expectClose(r.gates, expected, atol: 1e-6)
        // scaled tokens = gate × tokens
        let g = r.gates.toArray(), scaled = values(r.streams[.image]!.tokens), raw = values(image.tokens)
        for b in 0..<2 { for k in 0..<(4 * d) {
            #expect(abs(scaled[b * 4 * d + k] - Double(g[b * 2 + 1]) * raw[b * 4 * d + k]) < 1e-6)
        } }
        // another task embedding, same inputs: different gates
        let other = router([.text: text, .image: image], taskEmbedding: randomTensor([2, dt], seed: 99))
        let diff = zip(other.gates.toArray(), r.gates.toArray()).map { abs($0 - $1) }.max()!
        #expect(diff > 1e-3, "gates did not move with the task embedding (max change \(diff))")
    }

    @Test func missingModalityGetsGateZeroAndPolicyBoundsHold() {
        let router = DynamicAttentionRouter(modalities: [.text, .image], dimension: d, taskDimension: dt,
                                            generator: Generator(seed: 5))
        let text = tokens([3, 5, 2], n: 5, d: d, seed: 6), image = tokens([4, 0, 4], n: 4, d: d, seed: 7)
        let task = randomTensor([3, dt], seed: 8)
        let urgent = GatePolicy(minimum: [.image: 0.8]), capped = GatePolicy(maximum: [.text: 0.1])
        let r = router([.text: text, .image: image], taskEmbedding: task, policies: [urgent, urgent, capped])
        let g = r.gates(ofSample: 0), g1 = r.gates(ofSample: 1), g2 = r.gates(ofSample: 2)
        #expect(g[.image]! >= 0.8 - 1e-7)
        #expect(g1[.image]! == 0, "sample 1 has no image; its gate must be 0 even under a minimum")
        #expect(values(r.streams[.image]!.tokens.narrowed(axis: 0, start: 1, length: 1)).allSatisfy { $0 == 0 })
        #expect(g2[.text]! <= 0.1 + 1e-7)
        // without policies the same inputs give the unconstrained gates, which the policy changed
        let free = router([.text: text, .image: image], taskEmbedding: task)
        let f0 = free.gates(ofSample: 0)[.image]!
        #expect(g[.image]! == max(f0, 0.8))
    }

    @Test func fixedFusionIgnoresInputsAndTask() {
        let router = DynamicAttentionRouter(modalities: [.audio, .text], dimension: d, taskDimension: dt,
                                            kind: .fixed, generator: Generator(seed: 9))
        router.update(["fixed_logits": Tensor([0.3, -1.2])])
        let a = router([.audio: tokens([2, 3], n: 3, d: d, seed: 10), .text: tokens([1, 4], n: 4, d: d, seed: 11)],
                       taskEmbedding: randomTensor([2, dt], seed: 12))
        let s = [R.sigmoid(0.3), R.sigmoid(-1.2)]
        expectClose(a.gates, s + s, atol: 1e-6)
        #expect(router.namedParameters().map(\.path) == ["fixed_logits"])
    }

    @Test func paddingDoesNotChangeASample() {
        let router = DynamicAttentionRouter(modalities: [.text], dimension: d, taskDimension: dt, generator: Generator(seed: 13))
        let batch = tokens([2, 6], n: 6, d: d, seed: 14)
        let task = randomTensor([2, dt], seed: 15)
        let alone = ModalityTokens(tokens: batch.tokens.narrowed(axis: 0, start: 0, length: 1).narrowed(axis: 1, start: 0, length: 2),
                                   mask: Tensor([true, true], shape: [1, 2]))
        let r1 = router([.text: alone], taskEmbedding: task.narrowed(axis: 0, start: 0, length: 1))
        let r2 = router([.text: batch], taskEmbedding: task)
        expectClose(r2.gates.narrowed(axis: 0, start: 0, length: 1), values(r1.gates), atol: 1e-6)
    }

    @Test func gradientsReachEveryGateParameter() {
        let router = DynamicAttentionRouter(modalities: [.text, .image], dimension: d, taskDimension: dt, generator: Generator(seed: 16))
        let text = tokens([3, 5], n: 5, d: d, seed: 17), image = tokens([4, 2], n: 4, d: d, seed: 18)
        let task = randomTensor([2, dt], seed: 19)
        let (_, grads) = valueAndGrad(router) { m in
            let r = m([.text: text, .image: image], taskEmbedding: task)
            return r.streams[.text]!.tokens.sum() + r.streams[.image]!.tokens.square().sum()
        }
        for (path, p) in router.trainableParameters() {
            let g = grads[path]
            #expect(g != nil && g!.abs().sum().item() > 0, "no gradient for \(path) \(p.shape)")
        }
    }
}

@Suite struct CoAttentionTests {
    let d = 8, heads = 2

    @Test func oneBlockMatchesAFloat64Reference() {
        let co = CoAttention(modalities: [.text, .image], dimension: d, heads: heads, depth: 1, mlpHiddenSize: 12,
                             generator: Generator(seed: 20))
        // non-trivial norms
        var sd = co.stateDict()
        for (k, v) in sd where k.contains("norm") { sd[k] = v + randomTensor(v.shape, seed: UInt64(k.count), low: -0.3, high: 0.3) }
        co.update(sd)
        let text = tokens([3, 5], n: 5, d: d, seed: 21), image = tokens([4, 2], n: 4, d: d, seed: 22)
        let out = co([.text: text, .image: image], returnMaps: true)
        for (m, o, nq, no) in [(Modality.text, Modality.image, 5, 4), (.image, .text, 4, 5)] {
            let p = "layers.0.streams.\(m.rawValue)"
            var expected: [Double] = []
            for b in 0..<2 {
                let x = R.masked((m == .text ? text : image).tokens, sample: b)
                let ctx = R.masked((o == .text ? text : image).tokens, sample: b)
                let keep = (o == .text ? text : image).mask.toBoolArray()[(b * no)..<((b + 1) * no)].map { $0 }
                let qmask = (m == .text ? text : image).mask.toBoolArray()[(b * nq)..<((b + 1) * nq)].map { $0 }
                let a = R.attention(R.layerNorm(x, n: nq, sd, p + ".norm_q"), nq: nq, R.layerNorm(ctx, n: no, sd, p + ".norm_kv"),
                                    nk: no, keep: keep, heads: heads, sd, p + ".cross_attn")
                let h = zip(x, a).map { $0 + $1 }
                let y = zip(h, R.mlp(R.layerNorm(h, n: nq, sd, p + ".norm_mlp"), n: nq, sd, p + ".mlp")).map { $0 + $1 }
                for i in 0..<nq { for j in 0..<d { expected.append(qmask[i] ? y[i * d + j] : 0) } }
            }
            expectClose(out.streams[m]!.tokens, expected, atol: 1e-5)
            let map = out.maps[0][m]!
            #expect(map.weights.shape == [2, heads, nq, no])
            #expect(map.segments == [KeySegment(modality: o, range: 0..<no)])
        }
    }

    @Test func paddingAndMissingModalitiesAreIsolated() {
        let co = CoAttention(modalities: [.text, .image, .audio], dimension: d, heads: heads, depth: 2,
                             generator: Generator(seed: 23))
        let text = tokens([3, 5], n: 5, d: d, seed: 24), image = tokens([4, 2], n: 4, d: d, seed: 25)
        let audio = tokens([0, 3], n: 3, d: d, seed: 26)    // sample 0 has no audio
        let full = co([.text: text, .image: image, .audio: audio])
        // sample 0 alone, trimmed to its real lengths, without the audio stream at all
        func first(_ t: ModalityTokens, _ l: Int) -> ModalityTokens {
            ModalityTokens(tokens: t.tokens.narrowed(axis: 0, start: 0, length: 1).narrowed(axis: 1, start: 0, length: l),
                           mask: Tensor(Array(repeating: true, count: l), shape: [1, l]))
        }
        let alone = co([.text: first(text, 3), .image: first(image, 4)])
        let a = full.streams[.text]!.tokens.narrowed(axis: 0, start: 0, length: 1).narrowed(axis: 1, start: 0, length: 3)
        expectClose(a, values(alone.streams[.text]!.tokens), atol: 1e-5)
        // padded positions are exactly zero
        let padded = values(full.streams[.text]!.tokens.narrowed(axis: 0, start: 0, length: 1).narrowed(axis: 1, start: 3, length: 2))
        #expect(padded.allSatisfy { $0 == 0 })
    }

    @Test func informationFlowsBothWays() {
        let co = CoAttention(modalities: [.text, .image], dimension: d, heads: heads, depth: 1, generator: Generator(seed: 27))
        let text = tokens([3], n: 3, d: d, seed: 28), image = tokens([4], n: 4, d: d, seed: 29)
        let image2 = tokens([4], n: 4, d: d, seed: 30), text2 = tokens([3], n: 3, d: d, seed: 31)
        let base = co([.text: text, .image: image])
        let changedImage = co([.text: text, .image: image2]), changedText = co([.text: text2, .image: image])
        func change(_ a: Tensor, _ b: Tensor) -> Float { (a - b).abs().max().item() }
        #expect(change(base.streams[.text]!.tokens, changedImage.streams[.text]!.tokens) > 1e-4)
        #expect(change(base.streams[.image]!.tokens, changedText.streams[.image]!.tokens) > 1e-4)
    }
}

@Suite struct HeadTests {
    @Test func projectionIsUnitNormAndMatchesReference() {
        let head = ProjectionHead(inputDimension: 6, outputDimension: 4, generator: Generator(seed: 32))
        let x = tokens([2, 3], n: 3, d: 6, seed: 33)
        let y = head(x)
        let sd = head.stateDict()
        var expected: [Double] = []
        for b in 0..<2 {
            let l = [2, 3][b], t = R.masked(x.tokens, sample: b)
            var pooled = [Double](repeating: 0, count: 6)
            for i in 0..<l { for j in 0..<6 { pooled[j] += t[i * 6 + j] / Double(l) } }
            let z = R.linear(pooled, n: 1, sd, "proj")
            let norm = z.map { $0 * $0 }.reduce(0, +).squareRoot()
            expected += z.map { $0 / norm }
        }
        expectClose(y, expected, atol: 1e-6)
    }

    @Test func l2NormalizedGradient() {
        checkGradients([randomTensor([3, 4], seed: 34)], op: { x in x[0].l2Normalized(axis: 1) }) { x in
            var out = x[0]
            for i in 0..<3 {
                let n = (0..<4).map { x[0][i * 4 + $0] * x[0][i * 4 + $0] }.reduce(0, +).squareRoot()
                for j in 0..<4 { out[i * 4 + j] = x[0][i * 4 + j] / n }
            }
            return out
        }
    }
}
