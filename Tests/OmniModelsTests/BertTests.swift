// BERT / sentence-embedding parity with sentence-transformers on all-MiniLM-L6-v2.
//
// Fixtures (Fixtures/minilm): reference.json (6 sentences, from /work/shared/fixtures, made with
// SentenceTransformer(dir).encode(s, normalize_embeddings=True)) and long_reference.json (texts
// past the 256-token limit, made by make_long_reference.py beside it). The weights come from
// scripts/fetch-assets; the tests fail, naming the script, when they are missing.
import Foundation
import Testing
@testable import OmniData
@testable import OmniModels
@testable import OmniNN
@testable import OmniTensor

/// An asset `scripts/fetch-assets` has not put in place.
struct MissingMiniLMAsset: Error, CustomStringConvertible {
    let path: String
    var description: String {
        "missing asset \(path): run OMNI_ASSETS=\(Assets.directory.path) scripts/fetch-assets first"
    }
}

enum MiniLM {
    /// The model folder, checked file by file.
    static func directory() throws -> URL {
        for name in ["config.json", "model.safetensors", "tokenizer.json", "1_Pooling/config.json", "sentence_bert_config.json"] {
            let url = Assets.file("minilm/" + name)
            guard FileManager.default.fileExists(atPath: url.path) else { throw MissingMiniLMAsset(path: url.path) }
        }
        return Assets.file("minilm")
    }

    /// Loaded once per test process.
    static let embedder = Result { try SentenceEmbedder(directory: directory()) }

    struct Reference: Decodable {
        let sentences: [String]
        let input_ids: [[Int]]
        let embeddings: [[Double]]
        let max_seq_length: Int
    }

    static func reference(_ name: String) throws -> Reference {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/minilm") else {
            throw MissingMiniLMAsset(path: "Tests/OmniModelsTests/Fixtures/minilm/\(name).json")
        }
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }
}

/// Cosine similarity and largest absolute difference of two vectors, in Double.
func compare(_ a: [Float], _ b: [Double]) -> (cosine: Double, maxAbs: Double) {
    precondition(a.count == b.count)
    var dot = 0.0, na = 0.0, nb = 0.0, worst = 0.0
    for (x, y) in zip(a.map(Double.init), b) {
        dot += x * y; na += x * x; nb += y * y
        worst = Swift.max(worst, Swift.abs(x - y))
    }
    return (dot / (na.squareRoot() * nb.squareRoot()), worst)
}

@Suite struct BertTests {
    // MARK: Parity with sentence-transformers

    @Test func tokenIDsMatchSentenceTransformers() throws {
        let embedder = try MiniLM.embedder.get()
        for name in ["reference", "long_reference"] {
            let ref = try MiniLM.reference(name)
            #expect(embedder.maxSequenceLength == ref.max_seq_length)
            let ids = embedder.tokenize(ref.sentences)
            for (i, sentence) in ref.sentences.enumerated() {
                #expect(ids[i] == ref.input_ids[i], "\(name) sentence \(i) \(sentence.prefix(40))…")
            }
        }
    }

    @Test func embeddingsMatchSentenceTransformers() throws {
        let embedder = try MiniLM.embedder.get()
        let ref = try MiniLM.reference("reference")
        let vectors = embedder.embed(ref.sentences, batchSize: 32)   // one padded batch of 6
        var minCosine = 1.0, maxAbs = 0.0
        for (i, v) in vectors.enumerated() {
            #expect(v.count == 384)
            let (cosine, diff) = compare(v, ref.embeddings[i])
            #expect(cosine >= 0.99999, "sentence \(i) \"\(ref.sentences[i])\": cosine \(cosine), max abs diff \(diff)")
            minCosine = Swift.min(minCosine, cosine); maxAbs = Swift.max(maxAbs, diff)
        }
        #expect(maxAbs < 1e-5, "max abs diff \(maxAbs)")
        print("MiniLM parity: \(vectors.count) sentences, min cosine \(minCosine), max abs diff \(maxAbs)")
    }

    @Test func longTextsAreTruncatedLikeSentenceTransformers() throws {
        let embedder = try MiniLM.embedder.get()
        let ref = try MiniLM.reference("long_reference")
        let ids = embedder.tokenize(ref.sentences)
        #expect(ids.map(\.count) == [256, 256])
        #expect(ids.allSatisfy { $0.first == 101 && $0.last == 102 })   // [CLS] … [SEP] survive the cut
        let vectors = embedder.embed(ref.sentences)
        for (i, v) in vectors.enumerated() {
            let (cosine, diff) = compare(v, ref.embeddings[i])
            #expect(cosine >= 0.99999, "long text \(i): cosine \(cosine), max abs diff \(diff)")
            print("MiniLM long text \(i): cosine \(cosine), max abs diff \(diff)")
        }
    }

    @Test func paddedBatchesMatchOneByOne() throws {
        let embedder = try MiniLM.embedder.get()
        let short = try MiniLM.reference("reference").sentences
        let long = try MiniLM.reference("long_reference").sentences
        let texts = [short[2], long[0], "", short[0], "Hi", short[3]]   // 3 to 256 tokens
        let batched = embedder.embed(texts, batchSize: 32)
        let single = texts.map { embedder.embed([$0], batchSize: 1)[0] }
        let twoAtATime = embedder.embed(texts, batchSize: 2)
        for i in texts.indices {
            expectClose(Tensor(batched[i]), single[i].map(Double.init), atol: 1e-5, rtol: 0, "text \(i) batched vs alone")
            expectClose(Tensor(twoAtATime[i]), single[i].map(Double.init), atol: 1e-5, rtol: 0, "text \(i) in pairs vs alone")
        }
    }

    @Test func pooledOutputMatchesItsDefinition() throws {
        let model = try MiniLM.embedder.get().model
        let ids = Tensor([101, 7592, 2088, 102], shape: [1, 4])
        let out = GradMode.withoutGrad { model(ids, pooled: true) }
        let pooled = try #require(out.pooledOutput)
        let first = out.lastHiddenState.sliced(axis: 1, start: 0, end: 1).reshaped([384])
        let w = model.pooler!.dense.weight, b = model.pooler!.dense.bias!
        let expected = Ref.matmul(values(w), values(first), m: 384, k: 384, n: 1)
            .enumerated().map { Foundation.tanh($0.element + Double(b.toArray()[$0.offset])) }
        expectClose(pooled, expected, shape: [1, 384], atol: 1e-5, "pooler")
    }

    // MARK: Loading

    /// A BERT small enough to build in a test.
    static let tinyConfig = BertConfig(vocabularySize: 20, hiddenSize: 8, layerCount: 2, attentionHeadCount: 2,
                                       intermediateSize: 12, maxPositions: 16, typeVocabularySize: 2)

    @Test func moduleKeysAreTheCheckpointKeys() throws {
        let model = BertModel(Self.tinyConfig, generator: Generator(seed: 1))
        let keys = Set(model.stateDict().keys)
        for key in ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                    "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
                    "encoder.layer.1.attention.self.query.weight", "encoder.layer.1.attention.self.key.bias",
                    "encoder.layer.1.attention.self.value.weight", "encoder.layer.0.attention.output.dense.weight",
                    "encoder.layer.0.attention.output.LayerNorm.bias", "encoder.layer.0.intermediate.dense.weight",
                    "encoder.layer.0.output.dense.bias", "encoder.layer.0.output.LayerNorm.weight",
                    "pooler.dense.weight", "pooler.dense.bias"] {
            #expect(keys.contains(key), "\(key) missing from \(keys.sorted())")
        }
        #expect(keys.count == 5 + 2 * 16 + 2)
        #expect(model.stateDict()["encoder.layer.0.intermediate.dense.weight"]?.shape == [12, 8])
    }

    @Test func randomInitializationFollowsTransformers() {
        let config = BertConfig(vocabularySize: 300, hiddenSize: 32, layerCount: 1, attentionHeadCount: 4,
                                intermediateSize: 64, maxPositions: 40, initializerRange: 0.05)
        let model = BertModel(config, generator: Generator(seed: 3))
        for (path, tensor) in model.namedParameters() {
            let v = values(tensor)
            if path.contains("LayerNorm") {
                #expect(v.allSatisfy { $0 == (path.hasSuffix("weight") ? 1 : 0) }, "\(path)")
            } else if path.hasSuffix("bias") {
                #expect(v.allSatisfy { $0 == 0 }, "\(path)")
            } else {
                let mean = v.reduce(0, +) / Double(v.count)
                let std = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
                #expect(Swift.abs(mean) < 0.01 && Swift.abs(std - 0.05) < 0.01, "\(path): mean \(mean), std \(std)")
            }
        }
        #expect(model.isTraining)
    }

    @Test func paddingIsSkippedWithoutChangingResults() {
        // Two sequences in a right-padded batch against each run alone, token types included.
        let model = BertModel(Self.tinyConfig, generator: Generator(seed: 4))
        model.eval()
        let ids = [[3, 7, 1, 9, 4, 2], [5, 8, 6, 0, 0, 0]]
        let types = [[0, 0, 0, 1, 1, 1], [0, 1, 1, 0, 0, 0]]
        let mask = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]]
        let out = GradMode.withoutGrad {
            model(Tensor(ids.flatMap { $0 }, shape: [2, 6]), attentionMask: Tensor(mask.flatMap { $0 }, shape: [2, 6]),
                  tokenTypeIDs: Tensor(types.flatMap { $0 }, shape: [2, 6]), pooled: true)
        }
        let hidden = values(out.lastHiddenState)
        for (row, n) in [6, 3].enumerated() {
            let alone = GradMode.withoutGrad {
                model(Tensor(Array(ids[row].prefix(n)), shape: [1, n]), tokenTypeIDs: Tensor(Array(types[row].prefix(n)), shape: [1, n]),
                      pooled: true)
            }
            let got = Array(hidden[(row * 6 * 8)..<(row * 6 * 8 + n * 8)])
            expectClose(alone.lastHiddenState, got, atol: 1e-5, "row \(row) alone vs in the batch")
            expectClose(alone.pooledOutput!, Array(values(out.pooledOutput!)[(row * 8)..<(row * 8 + 8)]), atol: 1e-5, "pooled row \(row)")
        }
        #expect(hidden[(6 * 8 + 3 * 8)...].allSatisfy { $0 == 0 }, "padded positions are 0")
        // A mask of all ones is no padding at all.
        let full = GradMode.withoutGrad { model(Tensor([3, 7, 1], shape: [1, 3]), attentionMask: Tensor([1, 1, 1], shape: [1, 3])) }
        let plain = GradMode.withoutGrad { model(Tensor([3, 7, 1], shape: [1, 3])) }
        #expect(full.lastHiddenState.toArray() == plain.lastHiddenState.toArray())
    }

    @Test func gradientsReachEveryParameterThroughThePackedLayout() {
        let model = BertModel(Self.tinyConfig, generator: Generator(seed: 5))
        model.eval()
        let ids = Tensor([3, 7, 1, 9, 5, 8, 0, 0], shape: [2, 4])
        let mask = Tensor([1, 1, 1, 1, 1, 1, 0, 0], shape: [2, 4])
        let (loss, grads) = valueAndGrad(model) { m in m(ids, attentionMask: mask, pooled: true).pooledOutput!.square().sum() }
        #expect(loss.item() > 0)
        for (path, tensor) in model.trainableParameters() {
            let g = try! #require(grads[path])
            #expect(g.shape == tensor.shape)
            if path.hasPrefix("embeddings.token_type") || path.hasPrefix("embeddings.position") || path.hasPrefix("embeddings.word") {
                continue  // only the rows used get gradients
            }
            #expect(g.abs().max().item() > 0, "\(path) received no gradient")
        }
        // Positions past the longest row get none.
        let positions = grads["embeddings.position_embeddings.weight"]!.toArray()
        #expect(positions[(4 * 8)...].allSatisfy { $0 == 0 })
        #expect(positions[..<(4 * 8)].contains { $0 != 0 })
    }

    @Test func realCheckpointKeysAllLoad() throws {
        // Every tensor of model.safetensors, the pooler included, is used; position_ids is the
        // one quirk sanitize removes.
        let dir = try MiniLM.directory()
        let weights = try BertModel.readWeights(dir.appendingPathComponent("model.safetensors").path)
        let model = try MiniLM.embedder.get().model
        #expect(Set(model.stateDict().keys) == Set(weights.keys).subtracting(["embeddings.position_ids"]))
        #expect(model.pooler != nil)
        for (key, tensor) in model.stateDict() {
            #expect(tensor.toArray() == weights[key]!.toArray(), "\(key) differs from the checkpoint")
        }
    }

    /// Writes a checkpoint folder for the tiny config with `edit` applied to its state dict.
    func tinyCheckpoint(_ edit: (inout [String: Tensor]) -> Void) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-bert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = """
            {"vocab_size": 20, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,
             "intermediate_size": 12, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
             "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 16, "type_vocab_size": 2,
             "initializer_range": 0.02, "layer_norm_eps": 1e-12, "position_embedding_type": "absolute",
             "pad_token_id": 0, "architectures": ["BertModel"]}
            """
        try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
        var state = BertModel(Self.tinyConfig, generator: Generator(seed: 2)).stateDict()
        state["embeddings.position_ids"] = Tensor(Array(0..<16), shape: [1, 16])
        edit(&state)
        try SafeTensors.write(state.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) },
                              to: dir.appendingPathComponent("model.safetensors").path)
        return dir
    }

    @Test func tinyCheckpointRoundTrips() throws {
        let dir = try tinyCheckpoint { _ in }
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try BertModel.load(directory: dir)
        let original = BertModel(Self.tinyConfig, generator: Generator(seed: 2)).stateDict()
        for (key, tensor) in model.stateDict() { #expect(tensor.toArray() == original[key]!.toArray(), "\(key)") }
        #expect(!model.isTraining)
    }

    @Test func strictLoadReportsEveryProblemAtOnce() throws {
        let dir = try tinyCheckpoint { state in
            state["encoder.layer.1.output.LayerNorm.bias"] = nil                        // missing
            state["encoder.layer.2.output.dense.weight"] = Tensor.zeros([8, 12])        // unused
            state["encoder.layer.0.attention.self.key.weight"] = Tensor.zeros([8, 4])   // mis-shaped
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try BertModel.load(directory: dir)
            Issue.record("loading a damaged checkpoint succeeded")
        } catch let error as LoadError {
            #expect(error.missing == ["encoder.layer.1.output.LayerNorm.bias"])
            #expect(error.unused == ["encoder.layer.2.output.dense.weight"])
            #expect(error.mismatched.map(\.key) == ["encoder.layer.0.attention.self.key.weight"])
            #expect(error.file == dir.appendingPathComponent("model.safetensors").path)
            let text = error.description
            for part in ["model.safetensors", "encoder.layer.1.output.LayerNorm.bias", "encoder.layer.2.output.dense.weight",
                         "encoder.layer.0.attention.self.key.weight", "[8, 8]", "[8, 4]"] {
                #expect(text.contains(part), "\(part) not in: \(text)")
            }
        }
    }

    @Test func unexpectedPositionIDsAreReportedNotDropped() throws {
        let dir = try tinyCheckpoint { state in state["embeddings.position_ids"] = Tensor(Array((0..<16).reversed()), shape: [1, 16]) }
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect { try BertModel.load(directory: dir) } throws: { error in
            (error as? LoadError)?.unused == ["embeddings.position_ids"]
        }
    }

    @Test func configErrorsNameTheFileAndField() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-bert-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        let cases: [(String, [String])] = [
            (#"{"vocab_size": 10}"#, ["missing field", "hidden_size"]),
            (#"{"vocab_size": 10, "hidden_size": "big"}"#, ["hidden_size"]),
            (#"{"vocab_size": 10, "hidden_size": 9, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4, "hidden_act": "gelu", "hidden_dropout_prob": 0, "attention_probs_dropout_prob": 0, "max_position_embeddings": 8, "type_vocab_size": 1, "initializer_range": 0.02, "layer_norm_eps": 1e-12}"#,
             ["not divisible", "9", "2"]),
            (#"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4, "hidden_act": "mish", "hidden_dropout_prob": 0, "attention_probs_dropout_prob": 0, "max_position_embeddings": 8, "type_vocab_size": 1, "initializer_range": 0.02, "layer_norm_eps": 1e-12}"#,
             ["hidden_act", "mish"]),
            (#"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4, "hidden_act": "gelu", "hidden_dropout_prob": 0, "attention_probs_dropout_prob": 0, "max_position_embeddings": 8, "type_vocab_size": 1, "initializer_range": 0.02, "layer_norm_eps": 1e-12, "position_embedding_type": "relative_key"}"#,
             ["relative_key"]),
            ("[1, 2", []),
        ]
        for (json, parts) in cases {
            try Data(json.utf8).write(to: url)
            do {
                _ = try BertConfig(contentsOf: url)
                Issue.record("\(json) was accepted")
            } catch let error as WeightsError {
                #expect(error.file == url.path)
                for part in parts { #expect(error.message.contains(part), "\(part) not in: \(error.message)") }
            }
        }
        // A folder without weights names the weights file it looked for.
        try Data(#"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4, "hidden_act": "gelu", "hidden_dropout_prob": 0, "attention_probs_dropout_prob": 0, "max_position_embeddings": 8, "type_vocab_size": 1, "initializer_range": 0.02, "layer_norm_eps": 1e-12}"#.utf8).write(to: url)
        #expect { try BertModel.load(directory: dir) } throws: { error in
            "\(error)".contains("pytorch_model.bin")
        }
    }

    @Test func sentenceTransformersFolderErrorsNameTheFile() throws {
        let source = try MiniLM.directory()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-st-\(UUID().uuidString)")
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("1_Pooling"), withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        for name in ["config.json", "model.safetensors", "tokenizer.json", "sentence_bert_config.json", "modules.json"] {
            try fm.createSymbolicLink(at: dir.appendingPathComponent(name), withDestinationURL: source.appendingPathComponent(name))
        }
        let pooling = dir.appendingPathComponent("1_Pooling/config.json")
        // modules.json names 1_Pooling, which is empty
        #expect { try SentenceEmbedder(directory: dir) } throws: { "\($0)".contains(pooling.path) }
        try Data(#"{"word_embedding_dimension": 384, "pooling_mode": "median"}"#.utf8).write(to: pooling)
        #expect { try SentenceEmbedder(directory: dir) } throws: { "\($0)".contains(pooling.path) && "\($0)".contains("median") }
        try Data(#"{"word_embedding_dimension": 512, "pooling_mode_mean_tokens": true}"#.utf8).write(to: pooling)
        #expect { try SentenceEmbedder(directory: dir) } throws: { "\($0)".contains(pooling.path) && "\($0)".contains("512") }
        // the new format, with two modes, concatenated
        try Data(#"{"embedding_dimension": 384, "pooling_mode": ["cls", "mean"]}"#.utf8).write(to: pooling)
        let both = try SentenceEmbedder(directory: dir)
        #expect(both.poolingModes == [.cls, .mean] && both.dimension == 768 && both.normalizes)
        try fm.removeItem(at: dir.appendingPathComponent("tokenizer.json"))
        #expect { try SentenceEmbedder(directory: dir) } throws: { "\($0)".contains("tokenizer.json") }
    }

    // MARK: Pooling

    @Test(arguments: SentenceEmbedder.PoolingMode.allCases)
    func poolingMatchesAFloat64Reference(mode: SentenceEmbedder.PoolingMode) {
        for seed in testSeeds {
            let (b, t, d) = (3, 5, 4)
            let lengths = [5, 3, 1]
            let hidden = randomTensor([b, t, d], seed: seed)
            let h = values(hidden)
            let mask = Tensor((0..<(b * t)).map { $0 % t < lengths[$0 / t] }, shape: [b, t])
            var expected: [Double] = []
            for r in 0..<b {
                let n = lengths[r]
                func x(_ j: Int, _ k: Int) -> Double { h[(r * t + j) * d + k] }
                for k in 0..<d {
                    let real = (0..<n).map { x($0, k) }
                    switch mode {
                    case .cls: expected.append(x(0, k))
                    case .max: expected.append(real.max()!)
                    case .mean: expected.append(real.reduce(0, +) / Double(n))
                    case .meanSqrtLength: expected.append(real.reduce(0, +) / Double(n).squareRoot())
                    case .weightedMean:
                        let weighted = real.enumerated().map { Double($0.offset + 1) * $0.element }.reduce(0, +)
                        expected.append(weighted / Double(n * (n + 1) / 2))
                    case .lastToken: expected.append(x(n - 1, k))
                    }
                }
            }
            let pooled = SentenceEmbedder.pool(hidden, mask: mask, lengths: lengths, modes: [mode])
            expectClose(pooled, expected, shape: [b, d], "\(mode) seed \(seed)")
            // without padding the mask may be left out
            let full = SentenceEmbedder.pool(hidden, mask: nil, lengths: [t, t, t], modes: [mode])
            let masked = SentenceEmbedder.pool(hidden, mask: Tensor([Bool](repeating: true, count: b * t), shape: [b, t]),
                                               lengths: [t, t, t], modes: [mode])
            expectClose(full, values(masked), shape: [b, d], "\(mode) unmasked seed \(seed)")
        }
    }

    @Test func l2NormalizationMatchesAFloat64Reference() {
        for seed in testSeeds {
            let x = randomTensor([3, 7], seed: seed)
            let v = values(x)
            let expected = (0..<3).flatMap { r -> [Double] in
                let row = Array(v[(r * 7)..<((r + 1) * 7)])
                let norm = row.map { $0 * $0 }.reduce(0, +).squareRoot()
                return row.map { $0 / norm }
            }
            expectClose(SentenceEmbedder.l2Normalized(x), expected, shape: [3, 7], "seed \(seed)")
        }
        expectClose(SentenceEmbedder.l2Normalized(Tensor.zeros([1, 3])), [0, 0, 0], "zero row stays zero")
    }
}
