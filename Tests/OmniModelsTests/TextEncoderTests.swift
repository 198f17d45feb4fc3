// TextEncoder: the RoPE Transformer against a PyTorch reference (each sample alone, unpadded),
// padding invariance, gradients, and the MiniLM backbone against BertModel and sentence-transformers.
import Foundation
import Testing
@testable import OmniData
@testable import OmniModels
@testable import OmniNN
@testable import OmniTensor

@Suite struct TextEncoderTests {
    static let fixtureConfig = TextEncoderConfig.rotary(vocabSize: 23, dimension: 8, layers: 2, heads: 2, mlpRatio: 2)

    @Test func rotaryEncoderMatchesPyTorchOnAPaddedBatch() throws {
        let fixture = try OmniFixture("text_encoder")
        let encoder = TextEncoder(Self.fixtureConfig, generator: Generator(seed: 0))
        try encoder.load(fixture.params)
        encoder.eval()
        let lengths = fixture.ints("lengths")                         // [7, 4, 1]
        let ids = fixture.input("ids")                                 // [3, 7]; padding holds random ids
        let batch = TextEncoder.Batch(ids: ids, mask: SequenceLengths.mask(lengths, count: ids.shape[1]))
        let out = encoder(batch)
        #expect(out.tokens.shape == [3, 7, 8])
        expectMask(out.mask, counts: lengths, length: 7)
        expectZeroPadding(out)
        for (b, n) in lengths.enumerated() {
            expectClose(realRows(out.tokens, sample: b, count: n), values(fixture.output("tokens\(b)")!),
                        shape: [n, 8], atol: 1e-5, rtol: 1e-4, "sample \(b)")
        }
    }

    @Test func paddingDoesNotChangeRealTokens() {
        let encoder = TextEncoder(.rotary(vocabSize: 50, dimension: 16, layers: 2, heads: 4), generator: Generator(seed: 3))
        encoder.eval()
        let short = [4, 9, 13, 2], long = [7, 7, 1, 30, 41, 12, 5, 8, 19]
        let alone = encoder(TextEncoder.Batch(sequences: [short]))
        // padded with a non-zero id so that the padding's values would show if they leaked
        let batch = encoder(TextEncoder.Batch(sequences: [long, short], padID: 33))
        expectMask(batch.mask, counts: [9, 4], length: 9)
        expectClose(realRows(batch.tokens, sample: 1, count: 4), values(realRows(alone.tokens, sample: 0, count: 4)),
                    atol: 1e-5, rtol: 0, "short sample padded vs alone")
        expectZeroPadding(batch)
    }

    @Test func everyParameterGetsAGradient() {
        let encoder = TextEncoder(.rotary(vocabSize: 30, dimension: 8, layers: 2, heads: 2), generator: Generator(seed: 4))
        let batch = TextEncoder.Batch(sequences: [[1, 2, 3, 4, 5], [6, 7]])
        expectGradientsEverywhere(encoder) { m in weightedTokenLoss(m(batch)) }
    }

    @Test func bertBackboneGetsGradientsAndProjects() {
        let bert = BertConfig(vocabularySize: 40, hiddenSize: 12, layerCount: 1, attentionHeadCount: 2, intermediateSize: 16,
                              hiddenDropout: 0, attentionDropout: 0, maxPositions: 16, typeVocabularySize: 2)
        let encoder = TextEncoder(.bert(bert, dimension: 6), generator: Generator(seed: 5))
        let batch = TextEncoder.Batch(sequences: [[1, 5, 9, 2], [1, 3, 2]])
        let out = encoder(batch)
        #expect(out.tokens.shape == [2, 4, 6] && encoder.outputDimension == 6)
        // BERT's key bias adds one constant to every score of a query, which the softmax cancels:
        // it can never receive a gradient
        expectGradientsEverywhere(encoder, exempt: ["bert.encoder.layer.*.attention.self.key.bias"]) { m in
            weightedTokenLoss(m(batch))
        }
    }

    // MARK: MiniLM backbone (needs scripts/fetch-assets)

    /// The pretrained encoder with an identity projection, so its tokens are the backbone's states.
    static func identityMiniLM() throws -> TextEncoder {
        let encoder = try TextEncoder.pretrained(directory: MiniLM.directory(), dimension: 384, generator: Generator(seed: 0))
        encoder.projection!.weight = Tensor.eye(384)
        encoder.projection!.bias = Tensor.zeros([384])
        encoder.eval()
        return encoder
    }

    @Test func miniLMBackboneMatchesBertModel() throws {
        let encoder = try Self.identityMiniLM()
        let bert = try BertModel.load(directory: MiniLM.directory())
        let ref = try MiniLM.reference("reference")
        let batch = TextEncoder.Batch(sequences: ref.input_ids)
        let tokens = GradMode.withoutGrad { encoder(batch).tokens }
        let expected = GradMode.withoutGrad { bert(batch.ids, attentionMask: batch.mask).lastHiddenState }
        expectClose(tokens, values(expected), shape: expected.shape, atol: 1e-6, rtol: 0, "TextEncoder(bert) vs BertModel")
    }

    @Test func miniLMBackboneMeanPoolMatchesSentenceTransformers() throws {
        let encoder = try Self.identityMiniLM()
        let ref = try MiniLM.reference("reference")
        let out = GradMode.withoutGrad { encoder(TextEncoder.Batch(sequences: ref.input_ids)) }
        let t = out.length
        let tokens = out.tokens.toArray(), mask = out.mask.toBoolArray()
        for (b, expected) in ref.embeddings.enumerated() {
            // mean over real tokens, then L2 normalisation: sentence-transformers' pooling for this model
            var mean = [Double](repeating: 0, count: 384)
            let real = (0..<t).filter { mask[b * t + $0] }
            for i in real { for j in 0..<384 { mean[j] += Double(tokens[(b * t + i) * 384 + j]) / Double(real.count) } }
            let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
            expectClose(Tensor(mean.map { Float($0 / norm) }), expected, atol: 1e-5, rtol: 0, "sentence \(b)")
        }
    }

    @Test func loadBackboneRejectsAMismatchedCheckpoint() throws {
        let directory = try MiniLM.directory()
        var config = try BertConfig(contentsOf: directory.appendingPathComponent("config.json"))
        config.layerCount = 2
        let encoder = TextEncoder(.bert(config, dimension: 8), generator: Generator(seed: 0))
        #expect(throws: WeightsError.self) { try encoder.loadBackbone(directory: directory) }
        do {
            try encoder.loadBackbone(directory: directory)
        } catch {
            #expect("\(error)".contains("config.json") && "\(error)".contains("differs"), "\(error)")
        }
        let rotary = TextEncoder(.rotary(vocabSize: 10, dimension: 8, layers: 1, heads: 2), generator: Generator(seed: 0))
        #expect(throws: WeightsError.self) { try rotary.loadBackbone(directory: directory) }
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("omni-no-such-checkpoint-\(UUID())")
        #expect(throws: WeightsError.self) {
            try TextEncoder.pretrained(directory: missing, dimension: 8, generator: Generator(seed: 0))
        }
    }
}
