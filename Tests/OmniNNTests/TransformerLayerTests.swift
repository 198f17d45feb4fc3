import Foundation
import Testing
@testable import OmniNN
@testable import OmniTensor

@Suite struct TransformerLayerTests {
    static let d = 8, heads = 2, hidden = 12, batch = 2

    struct Case: Sendable, CustomStringConvertible {
        var placement: NormPlacement
        var norm: NormKind
        var rotary: RotaryEmbedding? = nil
        var isCausal = false
        var window: Int? = nil
        var activation: Activation = .gelu
        var description: String {
            "\(placement)-norm \(norm)\(isCausal ? " causal" : "")\(window.map { " window \($0)" } ?? "")\(rotary != nil ? " rotary" : "") \(activation)"
        }

        /// The rotary embedding for heads of `dimension / heads` values.
        func rotary(dimension: Int) -> RotaryEmbedding? {
            rotary.map { RotaryEmbedding(dimension: dimension / TransformerLayerTests.heads, base: $0.base, layout: $0.layout) }
        }

        /// The reference's hyper-parameters; gradient checks use a smaller block (d 4, hidden 6)
        /// so that central differences over every parameter stay fast.
        func block(dimension: Int = TransformerLayerTests.d, hidden: Int = TransformerLayerTests.hidden) -> NNRef.Block {
            NNRef.Block(dimension: dimension, heads: TransformerLayerTests.heads, hidden: hidden,
                        activation: activation, placement: placement, norm: norm, rotary: rotary(dimension: dimension),
                        isCausal: isCausal, window: window, contextDimension: 6)
        }

        var block: NNRef.Block { block() }

        func encoder(seed: UInt64, dimension: Int = TransformerLayerTests.d, hidden: Int = TransformerLayerTests.hidden) -> TransformerEncoderLayer {
            TransformerEncoderLayer(dimension: dimension, heads: TransformerLayerTests.heads,
                                    mlpHiddenSize: hidden, activation: activation, placement: placement, norm: norm,
                                    rotary: rotary(dimension: dimension), isCausal: isCausal, window: window, generator: Generator(seed: seed))
        }

        func decoder(seed: UInt64, dimension: Int = TransformerLayerTests.d, hidden: Int = TransformerLayerTests.hidden) -> TransformerDecoderLayer {
            TransformerDecoderLayer(dimension: dimension, heads: TransformerLayerTests.heads,
                                    mlpHiddenSize: hidden, contextDimension: 6, activation: activation, placement: placement,
                                    norm: norm, rotary: rotary(dimension: dimension), window: window, generator: Generator(seed: seed))
        }
    }

    /// Norm parameters that are not the identity, so that a swapped or skipped norm shows.
    static func randomizeNorms(_ m: Module, seed: UInt64) {
        var values: [String: Tensor] = [:]
        for (i, (path, t)) in m.trainableParameters().enumerated() where path.contains("norm") {
            values[path] = randomTensor(t.shape, seed: seed &+ UInt64(17 * i), low: 0.5, high: 1.5)
        }
        m.update(values)
    }

    static func attentionKeys(_ prefix: String) -> [String] {
        ["q_proj", "k_proj", "v_proj", "out_proj"].flatMap { ["\(prefix).\($0).weight", "\(prefix).\($0).bias"] }
    }

    static func normKeys(_ name: String, _ kind: NormKind) -> [String] {
        kind == .layer ? ["\(name).weight", "\(name).bias"] : ["\(name).weight"]
    }

    static let encoderCases: [Case] = [
        Case(placement: .pre, norm: .layer),
        Case(placement: .post, norm: .layer),
        Case(placement: .pre, norm: .rms, activation: .silu),
        Case(placement: .post, norm: .rms, activation: .relu),
        Case(placement: .pre, norm: .layer, isCausal: true),
        Case(placement: .pre, norm: .rms, rotary: RotaryEmbedding(dimension: 4), isCausal: true, window: 2, activation: .geluTanh),
    ]

    // MARK: Encoder

    @Test(arguments: encoderCases)
    func encoderForwardAndGradients(_ c: Case) {
        let t = 3
        for seed in testSeeds {
            let layer = c.encoder(seed: seed)
            layer.eval()
            #expect(layer.namedParameters().map(\.path) == Self.attentionKeys("self_attn") + Self.normKeys("norm1", c.norm)
                    + ["mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"] + Self.normKeys("norm2", c.norm))
            Self.randomizeNorms(layer, seed: seed)
            let x = randomTensor([Self.batch, t, Self.d], seed: seed)
            let ref = NNRef.encoderLayer(values(x), batch: Self.batch, parameterValues(layer), c.block)
            expectClose(layer(x).output, ref, shape: [Self.batch, t, Self.d], "encoder \(c) seed \(seed)")
            expectClose(layer(nonContiguous(x)).output, ref, "encoder \(c) non-contiguous")
        }
        let layer = c.encoder(seed: 4, dimension: 4, hidden: 6)
        Self.randomizeNorms(layer, seed: 4)
        checkModuleGradients(layer, inputs: [randomTensor([Self.batch, t, 4], seed: 5)], "encoder \(c)",
                             op: { m, x in m(x[0]).output }) { v, p in
            NNRef.encoderLayer(v[0], batch: Self.batch, p, c.block(dimension: 4, hidden: 6))
        }
    }

    @Test func encoderWithKeyPaddingReturnsSelfAttentionWeights() {
        let c = Case(placement: .post, norm: .layer)
        let layer = c.encoder(seed: 6)
        Self.randomizeNorms(layer, seed: 6)
        let x = randomTensor([2, 4, 8], seed: 7)
        let lengths = [4, 2], pad = paddingMask(lengths: lengths, count: 4)
        let padding = lengths.flatMap { l in (0..<4).map { $0 < l } }
        let p = parameterValues(layer)
        let r = layer(x, keyPadding: pad, returnWeights: true)
        expectClose(r.output, NNRef.encoderLayer(values(x), batch: 2, p, c.block, keyPadding: padding), "encoder with key padding")
        let weights = NNRef.attention(values(x), batch: 2, queries: 4, dimension: 8, heads: 2, p, "self_attn.", keyPadding: padding).weights
        expectClose(r.weights ?? Tensor.zeros([0]), weights, shape: [2, 2, 4, 4], "encoder self-attention weights")
        checkModuleGradients(layer, inputs: [x], "encoder with key padding", op: { m, t in m(t[0], keyPadding: pad).output }) { v, p in
            NNRef.encoderLayer(v[0], batch: 2, p, c.block, keyPadding: padding)
        }
    }

    @Test(arguments: [NormPlacement.pre, .post])
    func encoderPaddingInvariance(placement: NormPlacement) {
        for seed in testSeeds {
            let layer = Case(placement: placement, norm: .layer).encoder(seed: seed)
            Self.randomizeNorms(layer, seed: seed)
            let x = randomTensor([2, 5, 8], seed: seed)
            let padded = layer(x, keyPadding: paddingMask(lengths: [5, 2], count: 5)).output
            let alone = layer(x.narrowed(axis: 0, start: 1, length: 1).narrowed(axis: 1, start: 0, length: 2)).output
            expectClose(padded.narrowed(axis: 0, start: 1, length: 1).narrowed(axis: 1, start: 0, length: 2), values(alone),
                        atol: 1e-5, rtol: 0, "\(placement)-norm encoder: real positions of the padded row seed \(seed)")
        }
    }

    @Test(arguments: [Case(placement: .pre, norm: .layer, isCausal: true),
                      Case(placement: .post, norm: .rms, rotary: RotaryEmbedding(dimension: 4), isCausal: true),
                      Case(placement: .pre, norm: .rms, rotary: RotaryEmbedding(dimension: 4, layout: .interleaved), isCausal: true, window: 3)])
    func causalEncoderCachedDecodingMatchesTheFullSequence(_ c: Case) {
        for seed in testSeeds {
            let layer = c.encoder(seed: seed)
            Self.randomizeNorms(layer, seed: seed)
            layer.eval()
            let x = randomTensor([2, 6, 8], seed: seed)
            let full = layer(x).output
            for chunks in AttentionLayerTests.chunkings {
                let cache = KVCache()
                let y = AttentionLayerTests.incremental(x, chunks: chunks) { layer($0, cache: cache).output }
                expectClose(y, values(full), atol: 1e-5, rtol: 0, "\(c) cached chunks \(chunks) seed \(seed)")
                #expect(cache.length == 6)
            }
        }
    }

    // MARK: Decoder

    static let decoderCases: [Case] = [
        Case(placement: .pre, norm: .layer),
        Case(placement: .post, norm: .layer),
        Case(placement: .pre, norm: .rms, rotary: RotaryEmbedding(dimension: 4), window: 2, activation: .silu),
        Case(placement: .post, norm: .rms),
    ]

    @Test(arguments: decoderCases)
    func decoderForwardAndGradients(_ c: Case) {
        let t = 3, s = 4
        let lengths = [4, 3], padding = lengths.flatMap { l in (0..<s).map { $0 < l } }
        let pad = paddingMask(lengths: lengths, count: s)
        for seed in testSeeds {
            let layer = c.decoder(seed: seed)
            layer.eval()
            #expect(layer.namedParameters().map(\.path) == Self.attentionKeys("self_attn") + Self.normKeys("norm1", c.norm)
                    + Self.attentionKeys("cross_attn") + Self.normKeys("norm2", c.norm)
                    + ["mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"] + Self.normKeys("norm3", c.norm))
            #expect(layer.crossAttention.keyProjection.weight.shape == [8, 6])
            Self.randomizeNorms(layer, seed: seed)
            let x = randomTensor([Self.batch, t, Self.d], seed: seed)
            let context = randomTensor([Self.batch, s, 6], seed: seed &+ 50)
            let ref = NNRef.decoderLayer(values(x), context: values(context), batch: Self.batch, parameterValues(layer), c.block,
                                         contextPadding: padding)
            let r = layer(x, context: context, contextPadding: pad, returnWeights: true)
            expectClose(r.output, ref.output, shape: [Self.batch, t, Self.d], "decoder \(c) seed \(seed)")
            expectClose(r.weights ?? Tensor.zeros([0]), ref.weights, shape: [Self.batch, Self.heads, t, s], "decoder \(c) cross weights")
            expectClose(layer(nonContiguous(x), context: nonContiguous(context), contextPadding: pad).output, ref.output,
                        "decoder \(c) non-contiguous")
        }
        let layer = c.decoder(seed: 7, dimension: 4, hidden: 6)
        Self.randomizeNorms(layer, seed: 7)
        let x = randomTensor([Self.batch, t, 4], seed: 8), context = randomTensor([Self.batch, s, 6], seed: 9)
        checkModuleGradients(layer, inputs: [x, context], "decoder \(c)", op: { m, v in
            m(v[0], context: v[1], contextPadding: pad).output
        }) { v, p in
            NNRef.decoderLayer(v[0], context: v[1], batch: Self.batch, p, c.block(dimension: 4, hidden: 6), contextPadding: padding).output
        }
    }

    @Test(arguments: decoderCases)
    func decoderCachedDecodingMatchesTheFullSequence(_ c: Case) {
        for seed in testSeeds {
            let layer = c.decoder(seed: seed)
            Self.randomizeNorms(layer, seed: seed)
            layer.eval()
            let x = randomTensor([2, 6, 8], seed: seed), context = randomTensor([2, 4, 6], seed: seed &+ 9)
            let pad = paddingMask(lengths: [4, 3], count: 4)
            let full = layer(x, context: context, contextPadding: pad).output
            for chunks in AttentionLayerTests.chunkings {
                let caches = TransformerDecoderLayer.Caches()
                let y = AttentionLayerTests.incremental(x, chunks: chunks) {
                    layer($0, context: context, contextPadding: pad, caches: caches).output
                }
                expectClose(y, values(full), atol: 1e-5, rtol: 0, "decoder \(c) cached chunks \(chunks) seed \(seed)")
                #expect(caches.selfAttention.length == 6 && !caches.selfAttention.isStatic)
                #expect(caches.crossAttention.length == 4 && caches.crossAttention.isStatic)
            }
        }
    }

    @Test func decoderContextPaddingInvariance() {
        let layer = Case(placement: .pre, norm: .layer).decoder(seed: 3)
        Self.randomizeNorms(layer, seed: 3)
        let x = randomTensor([2, 3, 8], seed: 4), context = randomTensor([2, 5, 6], seed: 5)
        let padded = layer(x, context: context, contextPadding: paddingMask(lengths: [5, 2], count: 5)).output
        let alone = layer(x.narrowed(axis: 0, start: 1, length: 1),
                          context: context.narrowed(axis: 0, start: 1, length: 1).narrowed(axis: 1, start: 0, length: 2)).output
        expectClose(padded.narrowed(axis: 0, start: 1, length: 1), values(alone), atol: 1e-5, rtol: 0, "padded context")
    }

    // MARK: Modes and loading

    @Test(arguments: [NormPlacement.pre, .post])
    func encoderDropoutInTrainingMatchesTheReferenceMasks(placement: NormPlacement) {
        let c = Case(placement: placement, norm: .layer, isCausal: true)
        let p: Float = 0.25
        for seed in testSeeds {
            let g = Generator(seed: seed)
            let layer = TransformerEncoderLayer(dimension: 8, heads: 2, mlpHiddenSize: 12, placement: placement, isCausal: true,
                                                dropout: p, generator: g)
            Self.randomizeNorms(layer, seed: seed)
            #expect(layer.namedModules().map(\.path).contains("dropout"))
            #expect(layer.namedParameters().map(\.path).allSatisfy { !$0.hasPrefix("dropout") })
            let x = randomTensor([2, 3, 8], seed: seed)
            let params = parameterValues(layer)
            // evaluation: no dropout at all, and the generator is not touched
            layer.eval()
            let before = g.state
            expectClose(layer(x).output, NNRef.encoderLayer(values(x), batch: 2, params, c.block), "eval seed \(seed)")
            #expect(g.state == before, "evaluation must not draw from the generator")
            // training: the masks are drawn in order — attention weights, then each residual branch
            layer.train()
            let replay = Generator(seed: 0)
            replay.state = g.state
            let masks = NNRef.BlockDropout(attention: dropoutMask(count: 2 * 2 * 3 * 3, p: p, generator: replay),
                                           residual: [dropoutMask(count: 48, p: p, generator: replay),
                                                      dropoutMask(count: 48, p: p, generator: replay)])
            #expect(masks.residual[0].contains(0) && masks.attention.contains(0), "some values should be dropped")
            let y = layer(x).output
            expectClose(y, NNRef.encoderLayer(values(x), batch: 2, params, c.block, dropout: masks), "training seed \(seed)")
            #expect(g.state == replay.state, "training draws exactly the three masks")
            #expect(y.toArray() != layer(x).output.toArray(), "the next call draws new masks")
        }
        // gradients through the masks: replay the same generator state on every evaluation
        let g = Generator(seed: 9)
        let layer = TransformerEncoderLayer(dimension: 8, heads: 2, mlpHiddenSize: 12, placement: placement, isCausal: true,
                                            dropout: p, generator: g)
        let start = g.state
        let replay = Generator(seed: 0)
        replay.state = start
        let masks = NNRef.BlockDropout(attention: dropoutMask(count: 2 * 2 * 3 * 3, p: p, generator: replay),
                                       residual: [dropoutMask(count: 48, p: p, generator: replay),
                                                  dropoutMask(count: 48, p: p, generator: replay)])
        checkModuleGradients(layer, inputs: [randomTensor([2, 3, 8], seed: 10)], "\(placement)-norm encoder with dropout",
                             op: { m, t in g.state = start; return m(t[0]).output }) { v, p in
            NNRef.encoderLayer(v[0], batch: 2, p, c.block, dropout: masks)
        }
    }

    @Test func encoderStateDictRoundTripsThroughSafeTensors() throws {
        let dir = makeTemporaryDirectory()
        defer { cleanUp(dir) }
        let path = dir + "/encoder.safetensors"
        let c = Case(placement: .post, norm: .layer, rotary: RotaryEmbedding(dimension: 4), isCausal: true)
        let source = c.encoder(seed: 1)
        Self.randomizeNorms(source, seed: 1)
        try SafeTensors.write(source.namedParameters().map { (name: $0.path, tensor: $0.tensor) }, to: path)
        let contents = try SafeTensors.read(contentsOf: path)
        #expect(contents.names == source.namedParameters().map(\.path))
        let target = c.encoder(seed: 2)
        let x = randomTensor([2, 4, 8], seed: 3)
        let before = target(x).output.toArray()
        let expected = source(x).output.toArray()
        #expect(before != expected, "differently seeded layers should differ before loading")
        try target.load(Dictionary(uniqueKeysWithValues: contents.tensors.map { ($0.name, $0.tensor) }), file: path)
        let after = target(x).output.toArray()
        #expect(after.count == expected.count && zip(after, expected).allSatisfy { $0.bitPattern == $1.bitPattern },
                "outputs after the round trip must be bit-identical")
        for (p, t) in source.namedParameters() {
            #expect(rawBytes(target.stateDict()[p]!) == rawBytes(t), "\(p)")
        }
        // strict loading refuses a state dict with a key missing or one too many
        var missing = Dictionary(uniqueKeysWithValues: contents.tensors.map { ($0.name, $0.tensor) })
        missing.removeValue(forKey: "norm2.bias")
        missing["norm3.weight"] = Tensor.ones([8])
        #expect(throws: LoadError.self) { try target.load(missing) }
    }
}
