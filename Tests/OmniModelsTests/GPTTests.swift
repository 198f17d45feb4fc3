import Foundation
import Testing
import OmniData
import OmniNN
import OmniOptim
@testable import OmniModels
@testable import OmniTensor

/// A text of 340 characters written for this test (119 tokens with a 384-entry BPE vocabulary
/// trained on it).
let gptCorpus = "Omni runs on a plain CPU. A tensor is a value: views share storage, and new results get new buffers. Kernels are written in C and split their work into a fixed number of chunks, so the same seed and thread count give the same bits. This little model reads these lines until it knows them by heart, then writes them back one token at a time."

/// A GPT whose every parameter (LayerNorm weights and biases included) is random, so that no
/// term of the forward pass hides behind a zero or a one.
func randomGPT(_ config: GPTConfig, seed: UInt64) -> GPT {
    let g = Generator(seed: seed)
    let model = GPT(config, generator: g)
    var values: [String: Tensor] = [:]
    for (path, p) in model.namedParameters() {
        let isNormWeight = p.rank == 1 && path.hasSuffix(".weight")
        values[path] = isNormWeight ? Tensor.uniform(p.shape, low: 0.5, high: 1.5, generator: g)
                                    : Tensor.uniform(p.shape, low: -0.5, high: 0.5, generator: g)
    }
    model.update(values)
    model.eval()
    return model
}

/// Float64 forward of the GPT, written plainly from the weights by key: logits [B, T, V] in C order.
func referenceGPTLogits(_ model: GPT, ids: [[Int]]) -> [Double] {
    let c = model.config
    let w = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.path, values($0.tensor)) })
    let d = c.dimension, heads = c.heads, dh = d / heads, v = c.vocabSize
    func linear(_ x: [[Double]], _ key: String, outputs: Int) -> [[Double]] {
        let weight = w[key + ".weight"]!, bias = w[key + ".bias"]
        let inputs = x[0].count
        return x.map { row in
            (0..<outputs).map { o in
                var s = bias?[o] ?? 0
                for i in 0..<inputs { s += row[i] * weight[o * inputs + i] }
                return s
            }
        }
    }
    func layerNorm(_ x: [[Double]], _ key: String) -> [[Double]] {
        let gamma = w[key + ".weight"]!, beta = w[key + ".bias"]
        return x.map { row in
            let mean = row.reduce(0, +) / Double(row.count)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(row.count)
            return row.indices.map { i in (row[i] - mean) / (variance + 1e-5).squareRoot() * gamma[i] + (beta?[i] ?? 0) }
        }
    }
    var out: [Double] = []
    for sequence in ids {
        let t = sequence.count
        var x = (0..<t).map { p in (0..<d).map { w["wte.weight"]![sequence[p] * d + $0] + w["wpe.weight"]![p * d + $0] } }
        for l in 0..<c.layers {
            let h = layerNorm(x, "h.\(l).norm1")
            let q = linear(h, "h.\(l).self_attn.q_proj", outputs: d)
            let k = linear(h, "h.\(l).self_attn.k_proj", outputs: d)
            let vv = linear(h, "h.\(l).self_attn.v_proj", outputs: d)
            var attended = [[Double]](repeating: [Double](repeating: 0, count: d), count: t)
            for head in 0..<heads {
                let o = head * dh
                for i in 0..<t {
                    // causal: query i sees keys 0...i
                    let scores = (0...i).map { j in (0..<dh).reduce(0.0) { $0 + q[i][o + $1] * k[j][o + $1] } / Double(dh).squareRoot() }
                    let m = scores.max()!
                    let e = scores.map { Foundation.exp($0 - m) }
                    let z = e.reduce(0, +)
                    for j in 0...i { for u in 0..<dh { attended[i][o + u] += e[j] / z * vv[j][o + u] } }
                }
            }
            let a = linear(attended, "h.\(l).self_attn.out_proj", outputs: d)
            x = zip(x, a).map { zip($0, $1).map(+) }
            let hidden = linear(layerNorm(x, "h.\(l).norm2"), "h.\(l).mlp.fc1", outputs: c.mlpRatio * d)
                .map { $0.map { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) } }
            let m = linear(hidden, "h.\(l).mlp.fc2", outputs: d)
            x = zip(x, m).map { zip($0, $1).map(+) }
        }
        let final = layerNorm(x, "ln_f")
        let table = w[c.tiedHead ? "wte.weight" : "lm_head.weight"]!
        for row in final {
            for o in 0..<v { out.append((0..<d).reduce(0.0) { $0 + row[$1] * table[o * d + $1] }) }
        }
    }
    return out
}

/// Next-token batches of a token sequence for memorisation: the whole sequence as one row.
func shifted(_ ids: [Int]) -> (inputs: Tensor, targets: Tensor) {
    (Tensor(Array(ids.dropLast()), shape: [1, ids.count - 1]), Tensor(Array(ids.dropFirst()), shape: [1, ids.count - 1]))
}

/// The memorisation run of ``GPTTests/trainsUntilItRecitesTheCorpus()``: returns the model, the
/// losses by step and the tokenizer.
func trainOnCorpus(seed: UInt64, maxSteps: Int, stopBelow: Float? = nil) -> (model: GPT, losses: [Float], tokenizer: TiktokenTokenizer) {
    let tokenizer = BPETrainer(vocabularySize: 384).train(on: [gptCorpus])
    let ids = tokenizer.encode(gptCorpus, addSpecialTokens: false)
    let config = GPTConfig(vocabSize: 384, contextLength: 128, dimension: 64, layers: 2, heads: 4)
    precondition(ids.count <= config.contextLength, "the corpus is \(ids.count) tokens, more than the context")
    let model = GPT(config, generator: Generator(seed: seed))
    let optimizer = AdamW(learningRate: 0, weightDecay: 0.01)
    let schedule = LearningRateSchedule.warmupCosine(peak: 1e-2, warmupSteps: 10, totalSteps: 100, minimum: 1e-3)
    let (inputs, targets) = shifted(ids)
    var losses: [Float] = []
    for step in 0..<maxSteps {
        let (loss, gradients) = valueAndGrad(model) { m in m.loss(inputs, targets: targets) }
        losses.append(loss.item())
        if let stopBelow, losses.last! < stopBelow { break }
        optimizer.learningRate = schedule.learningRate(at: step)
        optimizer.update(model, gradients: clipByGlobalNorm(gradients, maxNorm: 1).gradients)
    }
    return (model, losses, tokenizer)
}

@Suite struct GPTTests {
    static let tiny = GPTConfig(vocabSize: 13, contextLength: 9, dimension: 16, layers: 2, heads: 4, mlpRatio: 2)

    @Test(arguments: [false, true]) func forwardMatchesFloat64Reference(tiedHead: Bool) {
        var config = Self.tiny
        config.tiedHead = tiedHead
        for seed in testSeeds {
            let model = randomGPT(config, seed: seed)
            let g = Generator(seed: seed + 100)
            let ids = (0..<2).map { _ in (0..<7).map { _ in g.nextInt(below: config.vocabSize) } }
            let logits = model(Tensor(ids.flatMap { $0 }, shape: [2, 7]))
            let expected = referenceGPTLogits(model, ids: ids)
            expectClose(logits, expected, shape: [2, 7, config.vocabSize], atol: 2e-5, rtol: 1e-4, "logits, seed \(seed)")

            // the loss is the mean of -log softmax at the next tokens
            let targets = ids.map { Array($0.dropFirst()) + [0] }
            let loss = model.loss(Tensor(ids.flatMap { $0 }, shape: [2, 7]), targets: Tensor(targets.flatMap { $0 }, shape: [2, 7]))
            var sum = 0.0
            for r in 0..<14 {
                let row = Array(expected[(r * config.vocabSize)..<((r + 1) * config.vocabSize)])
                let m = row.max()!
                let lse = m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
                sum += lse - row[targets[r / 7][r % 7]]
            }
            expectClose(loss, [sum / 14], atol: 1e-5, "loss, seed \(seed)")
        }
    }

    @Test func tiedHeadHasNoHeadParameter() {
        var config = Self.tiny
        config.tiedHead = true
        let tied = GPT(config, generator: Generator(seed: 0))
        #expect(tied.head == nil)
        #expect(!tied.namedParameters().contains { $0.path.hasPrefix("lm_head") })
        let untied = GPT(Self.tiny, generator: Generator(seed: 0))
        #expect(untied.parameterCount == tied.parameterCount + Self.tiny.vocabSize * Self.tiny.dimension)
    }

    /// nanoGPT's initialisation: N(0, 0.02) matrices, residual projections N(0, 0.02/√(2·layers)),
    /// zero biases, unit LayerNorm weights.
    @Test func initialisationFollowsNanoGPT() {
        let config = GPTConfig(vocabSize: 512, contextLength: 64, dimension: 64, layers: 4, heads: 4)
        let model = GPT(config, generator: Generator(seed: 3))
        func std(_ t: Tensor) -> Double {
            let v = values(t)
            let mean = v.reduce(0, +) / Double(v.count)
            return (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)).squareRoot()
        }
        for (path, p) in model.namedParameters() {
            if p.rank == 2 {
                let expected = path.hasSuffix("out_proj.weight") || path.hasSuffix("fc2.weight") ? 0.02 / 8.0.squareRoot() : 0.02
                #expect(Swift.abs(std(p) - expected) < 0.1 * expected, "\(path): std \(std(p)), expected \(expected)")
            } else if path.hasSuffix(".bias") {
                #expect(values(p).allSatisfy { $0 == 0 }, "\(path) is not zero")
            } else {
                #expect(values(p).allSatisfy { $0 == 1 }, "\(path) is not one")
            }
        }
    }

    /// Feeding the sequence piece by piece through the KV caches gives the logits of one full pass.
    @Test(arguments: [false, true]) func cachedForwardMatchesFullForward(tiedHead: Bool) {
        var config = Self.tiny
        config.tiedHead = tiedHead
        for seed in testSeeds {
            let model = randomGPT(config, seed: seed)
            let g = Generator(seed: seed + 200)
            let ids = Tensor((0..<(2 * 9)).map { _ in g.nextInt(below: config.vocabSize) }, shape: [2, 9])
            let full = model(ids)                                                              // [2, 9, V]
            for pieces in [[1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 1, 4, 1]] {
                let caches = model.makeCaches()
                var start = 0
                var parts: [Tensor] = []
                for n in pieces {
                    parts.append(model(ids.narrowed(axis: 1, start: start, length: n), caches: caches))
                    start += n
                }
                #expect(caches.allSatisfy { $0.length == 9 })
                expectClose(Tensor.concatenated(parts, axis: 1), values(full), shape: [2, 9, config.vocabSize],
                            atol: 1e-5, rtol: 0, "pieces \(pieces), seed \(seed)")
            }
        }
    }

    /// Generation with KV caches gives the tokens of generation that re-reads the window each step,
    /// also once the sequence outgrows the context and the window slides.
    @Test func cachedGenerationMatchesUncached() {
        for seed in testSeeds {
            let model = randomGPT(Self.tiny, seed: seed)
            let prompt = [1, 5, 2]
            let greedy = model.generate(prompt: prompt, maxNewTokens: 20, temperature: 0)
            #expect(greedy.count == 23 && Array(greedy.prefix(3)) == prompt)
            #expect(greedy == model.generate(prompt: prompt, maxNewTokens: 20, temperature: 0, cached: false), "seed \(seed)")
            for (temperature, topK) in [(Float(1), Int?.none), (0.7, 4)] {
                let a = model.generate(prompt: prompt, maxNewTokens: 20, temperature: temperature, topK: topK,
                                       generator: Generator(seed: seed))
                let b = model.generate(prompt: prompt, maxNewTokens: 20, temperature: temperature, topK: topK,
                                       generator: Generator(seed: seed), cached: false)
                #expect(a == b, "seed \(seed), temperature \(temperature), topK \(String(describing: topK))")
            }
            // top-1 sampling is greedy
            #expect(model.generate(prompt: prompt, maxNewTokens: 20, temperature: 1, topK: 1, generator: Generator(seed: 9)) == greedy)
        }
    }

    /// The tokens drawn at temperature T with top-k follow softmax(logits / T) over the k largest.
    @Test func samplingFollowsTheTemperedTopKDistribution() {
        let model = randomGPT(Self.tiny, seed: 4)
        let logits = model(Tensor([3, 1], shape: [1, 2])).narrowed(axis: 1, start: 1, length: 1).reshaped([Self.tiny.vocabSize])
        let l = values(logits)
        for (temperature, k) in [(0.5, 3), (1.0, Self.tiny.vocabSize), (2.0, 5)] {
            let top = Array(l.enumerated().sorted { $0.element > $1.element }.prefix(k))
            let m = top[0].element
            let z = top.reduce(0.0) { $0 + Foundation.exp(($1.element - m) / temperature) }
            var expected = [Double](repeating: 0, count: Self.tiny.vocabSize)
            for (id, x) in top { expected[id] = Foundation.exp((x - m) / temperature) / z }
            let g = Generator(seed: 11)
            let draws = 4000
            var counts = [Double](repeating: 0, count: Self.tiny.vocabSize)
            for _ in 0..<draws { counts[model.nextToken(logits, temperature: Float(temperature), topK: k, generator: g)] += 1 }
            for id in 0..<Self.tiny.vocabSize {
                let p = counts[id] / Double(draws)
                // 4.5 standard errors of a binomial proportion; tokens outside the top k never appear
                let tolerance = expected[id] == 0 ? 0 : 4.5 * (expected[id] * (1 - expected[id]) / Double(draws)).squareRoot()
                #expect(Swift.abs(p - expected[id]) <= tolerance, "T \(temperature), k \(k), token \(id): frequency \(p), expected \(expected[id])")
            }
        }
        #expect(model.nextToken(logits, temperature: 0, topK: nil, generator: nil) == l.indices.max { l[$0] < l[$1] }!)
    }

    /// A two-layer GPT trained with AdamW (warm-up, cosine decay, clipping) on a 340-character text
    /// learns it by heart: the loss falls below 0.05 and greedy decoding from the first token
    /// writes the text back exactly.
    @Test func trainsUntilItRecitesTheCorpus() {
        let (model, losses, tokenizer) = trainOnCorpus(seed: 7, maxSteps: 100, stopBelow: 0.05)
        #expect(losses.last! < 0.05, "loss after \(losses.count) steps is \(losses.last!) (first \(losses.first!))")
        let ids = tokenizer.encode(gptCorpus, addSpecialTokens: false)
        let recited = model.generate(prompt: [ids[0]], maxNewTokens: ids.count - 1, temperature: 0)
        #expect(recited == ids)
        #expect(tokenizer.decode(recited, skipSpecialTokens: false) == gptCorpus)
    }

    /// Same seed and thread count: bit-identical weights after training.
    @Test func trainingIsDeterministic() {
        let a = trainOnCorpus(seed: 5, maxSteps: 6).model.namedParameters()
        let b = trainOnCorpus(seed: 5, maxSteps: 6).model.namedParameters()
        #expect(a.map(\.path) == b.map(\.path))
        for ((path, x), (_, y)) in zip(a, b) {
            #expect(x.toArray().map(\.bitPattern) == y.toArray().map(\.bitPattern), "\(path) differs between runs")
        }
        let c = trainOnCorpus(seed: 6, maxSteps: 1).model.namedParameters()
        #expect(a[0].tensor.toArray() != c[0].tensor.toArray(), "another seed gives the same weights")
    }

    /// Weights written to safetensors and strictly loaded into a model with other weights give
    /// identical logits; the config survives JSON.
    @Test(arguments: [false, true]) func checkpointRoundTrip(tiedHead: Bool) throws {
        var config = Self.tiny
        config.tiedHead = tiedHead
        let model = randomGPT(config, seed: 1)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gpt-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensors.write(model.namedParameters().map { (name: $0.path, tensor: $0.tensor) },
                              metadata: ["config": String(decoding: try JSONEncoder().encode(config), as: UTF8.self)], to: path)
        let contents = try SafeTensors.read(contentsOf: path)
        let restoredConfig = try JSONDecoder().decode(GPTConfig.self, from: Data(contents.metadata["config"]!.utf8))
        #expect(restoredConfig == config)
        let restored = GPT(restoredConfig, generator: Generator(seed: 2))
        restored.eval()
        let ids = Tensor([1, 4, 0, 12, 7, 7, 3, 2], shape: [2, 4])
        #expect(restored(ids).toArray() != model(ids).toArray())
        try restored.load(Dictionary(uniqueKeysWithValues: contents.tensors.map { ($0.name, $0.tensor) }), file: path)
        #expect(restored(ids).toArray().map(\.bitPattern) == model(ids).toArray().map(\.bitPattern))

        // a checkpoint of the other head layout does not load strictly, and says why
        var other = config
        other.tiedHead.toggle()
        do {
            try GPT(other, generator: Generator(seed: 0)).load(Dictionary(uniqueKeysWithValues: contents.tensors.map { ($0.name, $0.tensor) }))
            Issue.record("a \(tiedHead ? "tied" : "untied") checkpoint loaded into the other layout")
        } catch {
            #expect("\(error)".contains("lm_head.weight"), "\(error)")
        }
    }

    @Test func positionsBeyondTheContextStopWithAMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let model = GPT(GPTConfig(vocabSize: 5, contextLength: 4, dimension: 8, layers: 1, heads: 2), generator: Generator(seed: 0))
            _ = model(Tensor([0, 1, 2, 3, 4], shape: [1, 5]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("positions 0..<5 exceed the context length 4"), "stderr was: \(stderr)")
    }

    @Test func floatIdsStopWithAMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let model = GPT(GPTConfig(vocabSize: 5, contextLength: 4, dimension: 8, layers: 1, heads: 2), generator: Generator(seed: 0))
            _ = model(Tensor.zeros([1, 3]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("ids must be integer [B, T], got float32 [1, 3]"), "stderr was: \(stderr)")
    }
}

