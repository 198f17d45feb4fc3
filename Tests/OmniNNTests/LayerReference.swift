// Float64 reference implementations of the OmniNN layers, written as plain loops over C-order
// buffers, shared by the layer test files; plus the gradient check over a module's parameters.
import Foundation
import Testing
@testable import OmniNN
@testable import OmniTensor

/// A module's tensors (parameters and buffers) by dotted path, widened to Double.
typealias ParameterValues = [String: [Double]]

func parameterValues(_ m: Module) -> ParameterValues {
    Dictionary(m.namedParameters().map { ($0.path, values($0.tensor)) }, uniquingKeysWith: { a, _ in a })
}

/// `checkGradients` with respect to `inputs` and every trainable parameter of `module` whose path
/// passes `parameters` (the others stay fixed).
///
/// The parameters are substituted through `Module.update` on every evaluation (as the MLP test
/// does), so the gradient reaches them through the layer's own code. `reference` gets the inputs'
/// values and all of the module's tensors by path (buffers included, trainable ones perturbed).
/// The module's original parameters are restored afterwards.
func checkModuleGradients<M: Module>(
    _ module: M, inputs: [Tensor], constant: Set<Int> = [], parameters: (String) -> Bool = { _ in true },
    atol: Double = 1e-4, rtol: Double = 1e-3, _ what: String, op: (M, [Tensor]) -> Tensor, reference: ([[Double]], ParameterValues) -> [Double],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let trainable = module.trainableParameters().filter { parameters($0.path) }
    #expect(!trainable.isEmpty, "\(what): no trainable parameters", sourceLocation: sourceLocation)
    let paths = trainable.map(\.path)
    let fixed = parameterValues(module)
    let n = inputs.count
    checkGradients(inputs + trainable.map(\.tensor), constant: constant, atol: atol, rtol: rtol, what, op: { t in
        module.update(Dictionary(uniqueKeysWithValues: zip(paths, t[n...])))
        return op(module, Array(t[..<n]))
    }, reference: { v in
        var p = fixed
        for (k, path) in paths.enumerated() { p[path] = v[n + k] }
        return reference(Array(v[..<n]), p)
    }, sourceLocation: sourceLocation)
    module.update(Dictionary(uniqueKeysWithValues: trainable.map { ($0.path, $0.tensor.detached()) }))
}

/// A bool tensor [B, T] that is true for the first `lengths[b]` positions of row b.
func paddingMask(lengths: [Int], count t: Int) -> Tensor {
    Tensor(lengths.flatMap { l in (0..<t).map { $0 < l } }, shape: [lengths.count, t])
}

/// A dropout mask scaled by 1/(1 − p), drawn as the library draws it: one uniform per element in
/// C order from `generator`, kept when below 1 − p.
func dropoutMask(count: Int, p: Float, generator g: Generator) -> [Double] {
    let keep = Double(1 - p)
    return (0..<count).map { _ in g.nextDouble() < keep ? 1 / keep : 0 }
}

/// Float64 references of the layers.
enum NNRef {
    static func add(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map(+) }

    /// `x [rows, inSize] · wᵀ + b` with w [outSize, inSize].
    static func linear(_ x: [Double], _ w: [Double], _ b: [Double]?, inSize: Int, outSize: Int) -> [Double] {
        let rows = x.count / inSize
        var y = [Double](repeating: 0, count: rows * outSize)
        for r in 0..<rows {
            for o in 0..<outSize {
                var s = b?[o] ?? 0
                for i in 0..<inSize { s += x[r * inSize + i] * w[o * inSize + i] }
                y[r * outSize + o] = s
            }
        }
        return y
    }

    /// The ``Linear`` whose tensors sit under `prefix` (e.g. `"self_attn.q_proj."`).
    static func linear(_ x: [Double], _ p: ParameterValues, _ prefix: String, inSize: Int, outSize: Int) -> [Double] {
        linear(x, p[prefix + "weight"]!, p[prefix + "bias"], inSize: inSize, outSize: outSize)
    }

    static func layerNorm(_ x: [Double], weight: [Double]?, bias: [Double]?, d: Int, eps: Double) -> [Double] {
        var y = x
        for r in 0..<(x.count / d) {
            var mean = 0.0
            for i in 0..<d { mean += x[r * d + i] }
            mean /= Double(d)
            var v = 0.0
            for i in 0..<d { v += (x[r * d + i] - mean) * (x[r * d + i] - mean) }
            let inv = 1 / (v / Double(d) + eps).squareRoot()
            for i in 0..<d { y[r * d + i] = (x[r * d + i] - mean) * inv * (weight?[i] ?? 1) + (bias?[i] ?? 0) }
        }
        return y
    }

    static func rmsNorm(_ x: [Double], weight: [Double]?, d: Int, eps: Double) -> [Double] {
        var y = x
        for r in 0..<(x.count / d) {
            var ms = 0.0
            for i in 0..<d { ms += x[r * d + i] * x[r * d + i] }
            let inv = 1 / (ms / Double(d) + eps).squareRoot()
            for i in 0..<d { y[r * d + i] = x[r * d + i] * inv * (weight?[i] ?? 1) }
        }
        return y
    }

    /// The norm a Transformer block was built with, stored under `prefix`.
    static func norm(_ kind: NormKind, _ x: [Double], _ p: ParameterValues, _ prefix: String, d: Int, eps: Double) -> [Double] {
        switch kind {
        case .layer: return layerNorm(x, weight: p[prefix + "weight"], bias: p[prefix + "bias"], d: d, eps: eps)
        case .rms: return rmsNorm(x, weight: p[prefix + "weight"], d: d, eps: eps)
        }
    }

    static func activation(_ a: Activation, _ v: Double) -> Double {
        switch a {
        case .relu: return Swift.max(0, v)
        case .gelu: return 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
        case .geluTanh: return 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
        case .silu: return v / (1 + exp(-v))
        case .tanh: return tanh(v)
        case .sigmoid: return 1 / (1 + exp(-v))
        }
    }

    /// The ungated ``MLP`` (`fc1`, `fc2`) or the gated one (`gate_proj`, `up_proj`, `down_proj`).
    static func mlp(_ x: [Double], _ p: ParameterValues, _ prefix: String, inSize: Int, hidden: Int, outSize: Int,
                    activation a: Activation, gated: Bool = false) -> [Double] {
        if gated {
            let g = linear(x, p, prefix + "gate_proj.", inSize: inSize, outSize: hidden).map { activation(a, $0) }
            let u = linear(x, p, prefix + "up_proj.", inSize: inSize, outSize: hidden)
            return linear(zip(g, u).map(*), p, prefix + "down_proj.", inSize: hidden, outSize: outSize)
        }
        let h = linear(x, p, prefix + "fc1.", inSize: inSize, outSize: hidden).map { activation(a, $0) }
        return linear(h, p, prefix + "fc2.", inSize: hidden, outSize: outSize)
    }

    /// Rotates one head vector for `position` (RoPE, halves or interleaved pairs).
    static func rope(_ v: [Double], position: Int, _ r: RotaryEmbedding) -> [Double] {
        let d = v.count, half = d / 2
        var out = v
        for i in 0..<half {
            let angle = Double(position) * pow(r.base, -2.0 * Double(i) / Double(d))
            let (a, b) = r.layout == .interleaved ? (2 * i, 2 * i + 1) : (i, i + half)
            out[a] = v[a] * cos(angle) - v[b] * sin(angle)
            out[b] = v[b] * cos(angle) + v[a] * sin(angle)
        }
        return out
    }

    /// Multi-head attention under `prefix` (`q_proj`, `k_proj`, `v_proj`, `out_proj`).
    ///
    /// `x` is [B, Tq, D]; `context` [B, Tk, Dc] for cross-attention (nil: self-attention on x).
    /// Query i of Tq sits at key position i + Tk − Tq (causal band and window as in
    /// scaledDotProductAttention). A query with no key left gets zero weights.
    /// `dropout` multiplies the weights [B, H, Tq, Tk] before they meet the values (a dropout mask
    /// already scaled by 1/(1 − p)). Returns the output [B, Tq, D] and the weights before dropout
    /// [B, H, Tq, Tk].
    static func attention(_ x: [Double], context: [Double]? = nil, batch: Int, queries tq: Int, dimension d: Int,
                          heads: Int, contextDimension: Int? = nil, _ p: ParameterValues, _ prefix: String,
                          rotary: RotaryEmbedding? = nil, isCausal: Bool = false, window: Int? = nil,
                          keyPadding: [Bool]? = nil, dropout: [Double]? = nil) -> (output: [Double], weights: [Double]) {
        let dc = contextDimension ?? d
        let source = context ?? x
        let tk = source.count / (batch * dc)
        let dh = d / heads
        let q = linear(x, p, prefix + "q_proj.", inSize: d, outSize: d)          // [B, Tq, D]
        let k = linear(source, p, prefix + "k_proj.", inSize: dc, outSize: d)    // [B, Tk, D]
        let v = linear(source, p, prefix + "v_proj.", inSize: dc, outSize: d)
        var merged = [Double](repeating: 0, count: batch * tq * d)
        var weights = [Double](repeating: 0, count: batch * heads * tq * tk)
        for b in 0..<batch {
            for h in 0..<heads {
                func head(_ t: [Double], _ row: Int, position: Int) -> [Double] {
                    let vec = Array(t[(row * d + h * dh)..<(row * d + h * dh + dh)])
                    return context == nil ? rotary.map { rope(vec, position: position, $0) } ?? vec : vec
                }
                let keys = (0..<tk).map { head(k, b * tk + $0, position: $0) }
                for i in 0..<tq {
                    let qi = head(q, b * tq + i, position: i + tk - tq)
                    let aligned = i + tk - tq
                    var scores = [Double](repeating: -.infinity, count: tk)
                    for j in 0..<tk {
                        var allowed = keyPadding?[b * tk + j] ?? true
                        if isCausal || window != nil { allowed = allowed && j <= aligned }
                        if let window { allowed = allowed && j > aligned - window }
                        if allowed {
                            var s = 0.0
                            for e in 0..<dh { s += qi[e] * keys[j][e] }
                            scores[j] = s / Double(dh).squareRoot()
                        }
                    }
                    let top = scores.max()!
                    guard top > -.infinity else { continue }  // no key: zero weights and output
                    let ex = scores.map { exp($0 - top) }
                    let total = ex.reduce(0, +)
                    for j in 0..<tk {
                        let at = ((b * heads + h) * tq + i) * tk + j
                        weights[at] = ex[j] / total
                        let w = weights[at] * (dropout?[at] ?? 1)
                        for e in 0..<dh { merged[(b * tq + i) * d + h * dh + e] += w * v[(b * tk + j) * d + h * dh + e] }
                    }
                }
            }
        }
        return (linear(merged, p, prefix + "out_proj.", inSize: d, outSize: d), weights)
    }

    /// The hyper-parameters a Transformer block reference needs.
    struct Block {
        var dimension: Int
        var heads: Int
        var hidden: Int
        var activation: Activation = .gelu
        var placement: NormPlacement = .pre
        var norm: NormKind = .layer
        var eps: Double = Double(Float(1e-5))
        var rotary: RotaryEmbedding? = nil
        var isCausal = false
        var window: Int? = nil
        var contextDimension: Int? = nil
    }

    /// Dropout masks of a Transformer block in training, each already scaled by 1/(1 − p): the
    /// attention weights' [B, H, T, T] and the two residual branches' [B, T, D].
    struct BlockDropout {
        var attention: [Double]
        var residual: [[Double]]
    }

    /// ``TransformerEncoderLayer`` on x [B, T, D].
    static func encoderLayer(_ x: [Double], batch: Int, _ p: ParameterValues, _ c: Block, keyPadding: [Bool]? = nil,
                             dropout: BlockDropout? = nil) -> [Double] {
        let d = c.dimension, t = x.count / (batch * d)
        func attend(_ h: [Double]) -> [Double] {
            let a = attention(h, batch: batch, queries: t, dimension: d, heads: c.heads, p, "self_attn.", rotary: c.rotary,
                              isCausal: c.isCausal, window: c.window, keyPadding: keyPadding, dropout: dropout?.attention).output
            return dropout.map { zip(a, $0.residual[0]).map(*) } ?? a
        }
        func mlp(_ h: [Double]) -> [Double] {
            let m = NNRef.mlp(h, p, "mlp.", inSize: d, hidden: c.hidden, outSize: d, activation: c.activation)
            return dropout.map { zip(m, $0.residual[1]).map(*) } ?? m
        }
        func norm(_ h: [Double], _ key: String) -> [Double] { NNRef.norm(c.norm, h, p, key + ".", d: d, eps: c.eps) }
        switch c.placement {
        case .pre:
            let h = add(x, attend(norm(x, "norm1")))
            return add(h, mlp(norm(h, "norm2")))
        case .post:
            let h = norm(add(x, attend(x)), "norm1")
            return norm(add(h, mlp(h)), "norm2")
        }
    }

    /// ``TransformerDecoderLayer`` on x [B, T, D] attending to context [B, S, Dc]; returns the
    /// output and the cross-attention weights [B, H, T, S].
    static func decoderLayer(_ x: [Double], context: [Double], batch: Int, _ p: ParameterValues, _ c: Block,
                             contextPadding: [Bool]? = nil) -> (output: [Double], weights: [Double]) {
        let d = c.dimension, t = x.count / (batch * d)
        func selfAttend(_ h: [Double]) -> [Double] {
            attention(h, batch: batch, queries: t, dimension: d, heads: c.heads, p, "self_attn.", rotary: c.rotary,
                      isCausal: true, window: c.window).output
        }
        func crossAttend(_ h: [Double]) -> (output: [Double], weights: [Double]) {
            attention(h, context: context, batch: batch, queries: t, dimension: d, heads: c.heads,
                      contextDimension: c.contextDimension, p, "cross_attn.", keyPadding: contextPadding)
        }
        func mlp(_ h: [Double]) -> [Double] { NNRef.mlp(h, p, "mlp.", inSize: d, hidden: c.hidden, outSize: d, activation: c.activation) }
        func norm(_ h: [Double], _ key: String) -> [Double] { NNRef.norm(c.norm, h, p, key + ".", d: d, eps: c.eps) }
        switch c.placement {
        case .pre:
            var h = add(x, selfAttend(norm(x, "norm1")))
            let a = crossAttend(norm(h, "norm2"))
            h = add(h, a.output)
            return (add(h, mlp(norm(h, "norm3"))), a.weights)
        case .post:
            var h = norm(add(x, selfAttend(x)), "norm1")
            let a = crossAttend(h)
            h = norm(add(h, a.output), "norm2")
            return (norm(add(h, mlp(h)), "norm3"), a.weights)
        }
    }

    /// Batch norm of x [N, C, S...] (`spatial` = product of the trailing axes) with batch
    /// statistics (`training`) or the given running ones. Also returns the batch mean and the
    /// unbiased batch variance per channel (training only).
    static func batchNorm(_ x: [Double], n: Int, c: Int, spatial: Int, weight: [Double]?, bias: [Double]?,
                          runningMean: [Double], runningVariance: [Double], training: Bool,
                          eps: Double) -> (output: [Double], mean: [Double], unbiased: [Double]) {
        var y = x
        var means = runningMean, unbiased = runningVariance
        for ch in 0..<c {
            var mean = runningMean[ch], variance = runningVariance[ch]
            if training {
                let m = Double(n * spatial)
                mean = 0
                for i in 0..<n { for s in 0..<spatial { mean += x[(i * c + ch) * spatial + s] } }
                mean /= m
                var ss = 0.0
                for i in 0..<n { for s in 0..<spatial { let e = x[(i * c + ch) * spatial + s] - mean; ss += e * e } }
                variance = ss / m
                means[ch] = mean
                unbiased[ch] = ss / (m - 1)
            }
            let inv = 1 / (variance + eps).squareRoot()
            for i in 0..<n {
                for s in 0..<spatial {
                    let at = (i * c + ch) * spatial + s
                    y[at] = (x[at] - mean) * inv * (weight?[ch] ?? 1) + (bias?[ch] ?? 0)
                }
            }
        }
        return (y, means, unbiased)
    }

    /// Cross-correlation of x [N, C, H, W] with w [O, C/groups, KH, KW] (+ bias [O]), as
    /// PyTorch's conv2d. Returns the output [N, O, OH, OW] and its shape.
    static func conv2d(_ x: [Double], _ xs: [Int], _ w: [Double], _ ws: [Int], bias: [Double]?,
                       stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int) -> ([Double], [Int]) {
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3])
        let (o, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3])
        let oh = (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
        let ow = (wd + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
        let og = o / groups
        var y = [Double](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n {
            for oc in 0..<o {
                let g = oc / og
                for i in 0..<oh {
                    for j in 0..<ow {
                        var s = bias?[oc] ?? 0
                        for ic in 0..<cg {
                            let channel = g * cg + ic
                            for u in 0..<kh {
                                let yy = i * stride.0 - padding.0 + u * dilation.0
                                guard yy >= 0 && yy < h else { continue }
                                for v in 0..<kw {
                                    let xx = j * stride.1 - padding.1 + v * dilation.1
                                    guard xx >= 0 && xx < wd else { continue }
                                    s += x[((b * c + channel) * h + yy) * wd + xx] * w[((oc * cg + ic) * kh + u) * kw + v]
                                }
                            }
                        }
                        y[((b * o + oc) * oh + i) * ow + j] = s
                    }
                }
            }
        }
        return (y, [n, o, oh, ow])
    }
}
