import Foundation
import Testing
@testable import OmniNN
@testable import OmniTensor

@Suite struct AttentionLayerTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var queries = 3
        var context: (length: Int, dimension: Int)? = nil
        var rotary: RotaryEmbedding? = nil
        var isCausal = false
        var window: Int? = nil
        var keyLengths: [Int]? = nil  // key padding: real keys per batch row
        var bias = true
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "self"),
        Case(name: "self without bias", bias: false),
        Case(name: "cross", context: (4, 6)),
        Case(name: "cross with context padding", context: (4, 6), keyLengths: [4, 2]),
        Case(name: "cross with a fully padded row", context: (4, 6), keyLengths: [3, 0]),
        Case(name: "causal", queries: 4, isCausal: true),
        Case(name: "sliding window", queries: 5, isCausal: true, window: 2),
        Case(name: "window without causal flag", queries: 4, window: 3),
        Case(name: "rotary halves, causal", queries: 4, rotary: RotaryEmbedding(dimension: 4), isCausal: true),
        Case(name: "rotary interleaved", rotary: RotaryEmbedding(dimension: 4, base: 100, layout: .interleaved)),
        Case(name: "key padding", queries: 4, keyLengths: [4, 2]),
        Case(name: "key padding, causal, rotary", queries: 4, rotary: RotaryEmbedding(dimension: 4), isCausal: true, keyLengths: [2, 4]),
    ]

    static let d = 8, heads = 2, batch = 2

    /// The case's rotary embedding for heads of `d / heads` values.
    func rotary(_ c: Case, d: Int) -> RotaryEmbedding? {
        c.rotary.map { RotaryEmbedding(dimension: d / Self.heads, base: $0.base, layout: $0.layout) }
    }

    /// The layer of width `d` (8 for the forward checks; 4 keeps the gradient checks fast).
    func make(_ c: Case, seed: UInt64, d: Int = Self.d) -> MultiHeadAttention {
        MultiHeadAttention(dimension: d, heads: Self.heads, contextDimension: c.context?.dimension, bias: c.bias,
                           rotary: rotary(c, d: d), isCausal: c.isCausal, window: c.window, generator: Generator(seed: seed))
    }

    func reference(_ c: Case, _ x: [Double], context: [Double]?, _ p: ParameterValues, d: Int = Self.d) -> (output: [Double], weights: [Double]) {
        let tk = c.context?.length ?? c.queries
        let padding = c.keyLengths.map { ls in ls.flatMap { l in (0..<tk).map { $0 < l } } }
        return NNRef.attention(x, context: context, batch: Self.batch, queries: c.queries, dimension: d, heads: Self.heads,
                               contextDimension: c.context?.dimension, p, "", rotary: rotary(c, d: d), isCausal: c.isCausal,
                               window: c.window, keyPadding: padding)
    }

    @Test(arguments: cases)
    func forwardWeightsAndGradients(_ c: Case) {
        let tk = c.context?.length ?? c.queries
        let keyPadding = c.keyLengths.map { paddingMask(lengths: $0, count: tk) }
        for seed in testSeeds {
            let attn = make(c, seed: seed)
            attn.eval()
            #expect(attn.namedParameters().map(\.path) == ["q_proj", "k_proj", "v_proj", "out_proj"].flatMap {
                c.bias ? ["\($0).weight", "\($0).bias"] : ["\($0).weight"]
            })
            #expect(attn.keyProjection.weight.shape == [Self.d, c.context?.dimension ?? Self.d])
            let x = randomTensor([Self.batch, c.queries, Self.d], seed: seed)
            let context = c.context.map { randomTensor([Self.batch, $0.length, $0.dimension], seed: seed &+ 100) }
            let ref = reference(c, values(x), context: context.map(values), parameterValues(attn))
            let r = attn(x, context: context, keyPadding: keyPadding, returnWeights: true)
            expectClose(r.output, ref.output, shape: [Self.batch, c.queries, Self.d], "\(c) output seed \(seed)")
            if let w = r.weights {
                expectClose(w, ref.weights, shape: [Self.batch, Self.heads, c.queries, tk], "\(c) weights seed \(seed)")
            } else {
                Issue.record("\(c): weights were requested but not returned")
            }
            #expect(attn(x, context: context, keyPadding: keyPadding).weights == nil)
            let r2 = attn(nonContiguous(x), context: context.map(nonContiguous), keyPadding: keyPadding)
            expectClose(r2.output, ref.output, "\(c) non-contiguous seed \(seed)")
        }
        // gradients with respect to the input, the context and every projection
        let attn = make(c, seed: 42, d: 4)
        let x = randomTensor([Self.batch, c.queries, 4], seed: 43)
        let context = c.context.map { randomTensor([Self.batch, $0.length, $0.dimension], seed: 44) }
        checkModuleGradients(attn, inputs: [x] + (context.map { [$0] } ?? []), "\(c) gradients", op: { m, t in
            m(t[0], context: t.count > 1 ? t[1] : nil, keyPadding: keyPadding).output
        }) { v, p in reference(c, v[0], context: v.count > 1 ? v[1] : nil, p, d: 4).output }
        // the weights are differentiable too (they depend on the query and key projections only)
        checkModuleGradients(attn, inputs: [x] + (context.map { [$0] } ?? []), parameters: { $0.hasPrefix("q_proj") || $0.hasPrefix("k_proj") },
                             "\(c) weight gradients", op: { m, t in
            m(t[0], context: t.count > 1 ? t[1] : nil, keyPadding: keyPadding, returnWeights: true).weights!
        }) { v, p in reference(c, v[0], context: v.count > 1 ? v[1] : nil, p, d: 4).weights }
    }

    @Test func fullyPaddedRowGivesTheOutputBias() {
        let c = Self.cases.first { $0.name == "cross with a fully padded row" }!
        let attn = make(c, seed: 1)
        let x = randomTensor([2, 3, Self.d], seed: 2), context = randomTensor([2, 4, 6], seed: 3)
        let y = attn(x, context: context, keyPadding: paddingMask(lengths: [3, 0], count: 4)).output
        let bias = values(attn.outputProjection.bias!)
        expectClose(y.narrowed(axis: 0, start: 1, length: 1), Array((0..<3).map { _ in bias }.joined()), "no keys: out_proj(0)")
        #expect(!y.toArray().contains { $0.isNaN })
    }

    @Test func additiveAndBoolMasksCombineWithTheLayer() {
        // a bool mask equal to the causal band gives the causal layer's output
        let plain = MultiHeadAttention(dimension: 8, heads: 2, generator: Generator(seed: 5))
        let causal = MultiHeadAttention(dimension: 8, heads: 2, isCausal: true, generator: Generator(seed: 5))
        let x = randomTensor([2, 4, 8], seed: 6)
        let band = Tensor((0..<16).map { $0 % 4 <= $0 / 4 }, shape: [4, 4])
        let ref = NNRef.attention(values(x), batch: 2, queries: 4, dimension: 8, heads: 2, parameterValues(causal), "", isCausal: true)
        expectClose(plain(x, mask: band).output, ref.output, "bool mask = causal")
        expectClose(causal(x).output, ref.output, "causal")
        let additive = Tensor((0..<16).map { $0 % 4 <= $0 / 4 ? Float(0) : -.infinity }, shape: [4, 4])
        expectClose(plain(x, mask: additive).output, ref.output, "additive -inf mask = causal")
    }

    @Test func attentionDropoutOnlyInTrainingWithTheGeneratorsMask() {
        let p: Float = 0.5
        for seed in testSeeds {
            let g = Generator(seed: seed)
            let attn = MultiHeadAttention(dimension: 8, heads: 2, isCausal: true, dropout: p, generator: g)
            let x = randomTensor([2, 3, 8], seed: seed)
            let params = parameterValues(attn)
            let plain = NNRef.attention(values(x), batch: 2, queries: 3, dimension: 8, heads: 2, params, "", isCausal: true)
            attn.eval()
            expectClose(attn(x).output, plain.output, "eval: no dropout, seed \(seed)")
            attn.train()
            let replay = Generator(seed: 0)
            replay.state = g.state
            let mask = dropoutMask(count: 2 * 2 * 3 * 3, p: p, generator: replay)
            let r = attn(x, returnWeights: true)
            let ref = NNRef.attention(values(x), batch: 2, queries: 3, dimension: 8, heads: 2, params, "", isCausal: true, dropout: mask)
            expectClose(r.output, ref.output, "training: dropped attention weights, seed \(seed)")
            expectClose(r.weights!, plain.weights, "returned weights are taken before dropout")
            #expect(g.state == replay.state)
        }
    }

    // MARK: KV cache

    /// Feeds x [B, T, D] through `step` in chunks of the given sizes and joins the outputs.
    static func incremental(_ x: Tensor, chunks: [Int], _ step: (Tensor) -> Tensor) -> Tensor {
        var start = 0, outputs: [Tensor] = []
        for n in chunks {
            outputs.append(step(x.narrowed(axis: 1, start: start, length: n)))
            start += n
        }
        #expect(start == x.shape[1], "chunks \(chunks) do not cover \(x.shape[1]) positions")
        return Tensor.concatenated(outputs, axis: 1)
    }

    static let chunkings: [[Int]] = [[1, 1, 1, 1, 1, 1], [2, 1, 3], [3, 3], [6]]

    @Test(arguments: [(RotaryEmbedding?.some(RotaryEmbedding(dimension: 4)), Int?.none),
                      (RotaryEmbedding(dimension: 4, layout: .interleaved), 2),
                      (nil, 3)])
    func cachedDecodingMatchesTheFullSequence(rotary: RotaryEmbedding?, window: Int?) {
        for seed in testSeeds {
            let attn = MultiHeadAttention(dimension: 8, heads: 2, rotary: rotary, isCausal: true, window: window,
                                          generator: Generator(seed: seed))
            attn.eval()
            let x = randomTensor([2, 6, 8], seed: seed)
            let full = attn(x).output
            // the full forward itself against the reference
            let ref = NNRef.attention(values(x), batch: 2, queries: 6, dimension: 8, heads: 2, parameterValues(attn), "",
                                      rotary: rotary, isCausal: true, window: window)
            expectClose(full, ref.output, "full forward seed \(seed)")
            for chunks in Self.chunkings {
                let cache = KVCache()
                let y = Self.incremental(x, chunks: chunks) { attn($0, cache: cache).output }
                #expect(cache.length == 6 && cache.isStatic == false)
                expectClose(y, values(full), atol: 1e-5, rtol: 0, "cached chunks \(chunks) seed \(seed)")
                // reset() starts a new sequence
                cache.reset()
                #expect(cache.length == 0 && cache.keys == nil)
            }
        }
    }

    @Test func cachedDecodingWithKeyPaddingCoversAllCachedKeys() {
        let attn = MultiHeadAttention(dimension: 8, heads: 2, rotary: RotaryEmbedding(dimension: 4), isCausal: true,
                                      generator: Generator(seed: 3))
        let x = randomTensor([2, 5, 8], seed: 4)
        let pad = paddingMask(lengths: [5, 3], count: 5)
        let full = attn(x, keyPadding: pad).output
        let cache = KVCache()
        var start = 0
        let y = Self.incremental(x, chunks: [2, 1, 2]) { chunk in
            start += chunk.shape[1]
            return attn(chunk, keyPadding: pad.narrowed(axis: 1, start: 0, length: start), cache: cache).output
        }
        expectClose(y, values(full), atol: 1e-5, rtol: 0, "cached with key padding")
    }

    @Test func crossAttentionCacheIsFilledOnceAndReused() {
        let attn = MultiHeadAttention(dimension: 8, heads: 2, contextDimension: 6, generator: Generator(seed: 1))
        let x = randomTensor([2, 4, 8], seed: 2), context = randomTensor([2, 5, 6], seed: 3)
        let full = attn(x, context: context).output
        let cache = KVCache()
        let y = Self.incremental(x, chunks: [1, 2, 1]) { attn($0, context: context, cache: cache).output }
        expectClose(y, values(full), atol: 1e-5, rtol: 0, "static cross cache")
        #expect(cache.isStatic && cache.length == 5)
        // a static cache is not recomputed: a different context after the first step is ignored
        let other = attn(x.narrowed(axis: 1, start: 0, length: 1), context: context * 2, cache: cache).output
        expectClose(other, values(full.narrowed(axis: 1, start: 0, length: 1)), atol: 1e-5, rtol: 0, "reused cache")
    }

    // MARK: Padding invariance

    @Test(arguments: [(false, RotaryEmbedding?.none), (true, RotaryEmbedding(dimension: 4))])
    func paddedKeysDoNotChangeRealPositions(isCausal: Bool, rotary: RotaryEmbedding?) {
        for seed in testSeeds {
            let attn = MultiHeadAttention(dimension: 8, heads: 2, rotary: rotary, isCausal: isCausal, generator: Generator(seed: seed))
            // row 1 has 3 real tokens followed by 2 junk ones
            let x = randomTensor([2, 5, 8], seed: seed)
            let padded = attn(x, keyPadding: paddingMask(lengths: [5, 3], count: 5)).output
            let short = x.narrowed(axis: 0, start: 1, length: 1).narrowed(axis: 1, start: 0, length: 3)
            let alone = attn(short).output   // [1, 3, 8]
            expectClose(padded.narrowed(axis: 0, start: 1, length: 1).narrowed(axis: 1, start: 0, length: 3), values(alone),
                        atol: 1e-5, rtol: 0, "real positions of the padded row seed \(seed)")
            expectClose(padded.narrowed(axis: 0, start: 0, length: 1), values(attn(x.narrowed(axis: 0, start: 0, length: 1)).output),
                        atol: 1e-5, rtol: 0, "unpadded row seed \(seed)")
        }
    }

    @Test func paddedContextDoesNotChangeCrossAttention() {
        let attn = MultiHeadAttention(dimension: 8, heads: 2, contextDimension: 6, generator: Generator(seed: 8))
        let x = randomTensor([2, 3, 8], seed: 9), context = randomTensor([2, 5, 6], seed: 10)
        let padded = attn(x, context: context, keyPadding: paddingMask(lengths: [5, 2], count: 5)).output
        let alone = attn(x.narrowed(axis: 0, start: 1, length: 1),
                         context: context.narrowed(axis: 0, start: 1, length: 1).narrowed(axis: 1, start: 0, length: 2)).output
        expectClose(padded.narrowed(axis: 0, start: 1, length: 1), values(alone), atol: 1e-5, rtol: 0, "padded context")
    }
}
