// TextDecoder: the forward pass against PyTorch (learned and rotary positions), the KV-cache steps
// against the full forward, greedy decoding against the argmax of the full forward, beam search
// against an exhaustive search, the sampling filters against an independent reference and their
// draws against the filtered distribution, stop tokens and length limits, and gradients.
import Foundation
import Testing
@testable import OmniModels
@testable import OmniNN
@testable import OmniTensor

/// A decoder whose every weight is drawn large enough that its distributions are far from uniform.
func randomizedDecoder(_ config: TextDecoderConfig, seed: UInt64) -> TextDecoder {
    let g = Generator(seed: seed)
    let decoder = TextDecoder(config, generator: g)
    var values: [String: Tensor] = [:]
    for (path, p) in decoder.namedParameters() {
        let isNormWeight = p.rank == 1 && path.contains("norm") && path.hasSuffix(".weight")
        values[path] = isNormWeight ? Tensor.uniform(p.shape, low: 0.5, high: 1.5, generator: g)
                                    : Tensor.uniform(p.shape, low: -1, high: 1, generator: g)
    }
    decoder.update(values)
    decoder.eval()
    return decoder
}

/// Fused tokens [B, N, D] with `lengths` real tokens per row.
func randomContext(_ lengths: [Int], dimension: Int, seed: UInt64) -> ModalityTokens {
    let n = lengths.max()!
    return ModalityTokens(tokens: Tensor.normal([lengths.count, n, dimension], generator: Generator(seed: seed)),
                          mask: SequenceLengths.mask(lengths, count: n))
}

/// Row `b` of a context, alone.
func contextRow(_ context: ModalityTokens, _ b: Int) -> ModalityTokens {
    ModalityTokens(tokens: context.tokens.narrowed(axis: 0, start: b, length: 1),
                   mask: context.mask.narrowed(axis: 0, start: b, length: 1))
}

/// log-softmax of a row in Double.
func logSoftmaxRow(_ row: [Float]) -> [Double] {
    let m = Double(row.max()!)
    let s = row.reduce(0.0) { $0 + exp(Double($1) - m) }
    return row.map { Double($0) - m - log(s) }
}

/// Sums of the log-probabilities of each continuation in `generated` after `prompt`, by one full
/// (uncached) forward of all of them: rows are right-padded, which causal attention never lets a
/// real position see.
func batchedLogProbabilities(_ decoder: TextDecoder, prompt: [Int], generated: [[Int]], context: ModalityTokens) -> [Double] {
    let t = prompt.count + generated.map(\.count).max()!
    let rows = generated.map { g in prompt + g + Array(repeating: 0, count: t - prompt.count - g.count) }
    let repeated = Tensor(Array(repeating: 0, count: rows.count))
    let batchContext = ModalityTokens(tokens: context.tokens.indexSelect(axis: 0, indices: repeated),
                                      mask: context.mask.indexSelect(axis: 0, indices: repeated))
    let logits = GradMode.withoutGrad { decoder(Tensor(rows.flatMap { $0 }, shape: [rows.count, t]), context: batchContext) }.toArray()
    let v = decoder.config.vocabSize
    return generated.enumerated().map { r, g in
        var total = 0.0
        for (i, token) in g.enumerated() {
            let offset = (r * t + prompt.count - 1 + i) * v
            total += logSoftmaxRow(Array(logits[offset..<offset + v]))[token]
        }
        return total
    }
}

@Suite struct TextDecoderTests {
    static func fixtureDecoder(_ name: String) throws -> (TextDecoder, OmniFixture, ModalityTokens) {
        let fixture = try OmniFixture(name)
        let rotary = name.hasSuffix("rotary")
        let config = TextDecoderConfig(vocabSize: 11, dimension: 8, contextDimension: 6, layers: 2, heads: 2, mlpRatio: 2,
                                       positions: rotary ? .rotary : .learned, maxLength: 10, tiedHead: !rotary)
        let decoder = TextDecoder(config, generator: Generator(seed: 0))
        try decoder.load(fixture.params)
        decoder.eval()
        let tokens = fixture.input("context")                                      // [2, 5, 6], padding holds noise
        let context = ModalityTokens(tokens: tokens, mask: SequenceLengths.mask(fixture.ints("context_lengths"), count: tokens.shape[1]))
        return (decoder, fixture, context)
    }

    static let fixtures = ["text_decoder_learned", "text_decoder_rotary"]

    // MARK: Forward and cache

    @Test(arguments: fixtures) func fullForwardMatchesPyTorch(_ name: String) throws {
        let (decoder, fixture, context) = try Self.fixtureDecoder(name)
        let logits = GradMode.withoutGrad { decoder(fixture.input("ids"), context: context) }            // [2, 6, 11]
        #expect(logits.shape == [2, 6, 11])
        for b in 0..<2 {
            expectClose(logits.narrowed(axis: 0, start: b, length: 1).reshaped([6, 11]), values(fixture.output("logits\(b)")!),
                        atol: 1e-5, rtol: 1e-4, "\(name) sample \(b)")
        }
    }

    @Test(arguments: fixtures) func cachedStepsMatchTheFullForward(_ name: String) throws {
        let (decoder, fixture, context) = try Self.fixtureDecoder(name)
        let ids = fixture.input("ids")                                                                     // [2, 6]
        let full = GradMode.withoutGrad { decoder(ids, context: context) }
        // one token at a time, and a 3-token prefill followed by single steps
        for chunks in [[1, 1, 1, 1, 1, 1], [3, 1, 2]] {
            let caches = decoder.makeCaches()
            var start = 0
            for n in chunks {
                let step = GradMode.withoutGrad { decoder(ids.narrowed(axis: 1, start: start, length: n), context: context, caches: caches) }
                expectClose(step, values(full.narrowed(axis: 1, start: start, length: n)), atol: 1e-5, rtol: 0,
                            "\(name) positions \(start)..<\(start + n) vs full forward")
                for b in 0..<2 {
                    let reference = values(fixture.output("logits\(b)")!)
                    expectClose(step.narrowed(axis: 0, start: b, length: 1).reshaped([n, 11]),
                                Array(reference[(start * 11)..<((start + n) * 11)]), atol: 1e-5, rtol: 1e-4,
                                "\(name) sample \(b) positions \(start)..<\(start + n) vs PyTorch")
                }
                start += n
                #expect(caches.allSatisfy { $0.selfAttention.length == start && $0.crossAttention.isStatic && $0.crossAttention.length == 5 })
            }
        }
    }

    @Test func crossAttentionKeysAreProjectedOnce() throws {
        let (decoder, fixture, context) = try Self.fixtureDecoder("text_decoder_learned")
        let caches = decoder.makeCaches()
        let ids = fixture.input("ids")
        _ = GradMode.withoutGrad { decoder(ids.narrowed(axis: 1, start: 0, length: 1), context: context, caches: caches) }
        let keys = caches.map { $0.crossAttention.keys! }
        // a different context on later steps is not read again: the cached projection stays
        let other = ModalityTokens(tokens: context.tokens * 3, mask: context.mask)
        let step = GradMode.withoutGrad { decoder(ids.narrowed(axis: 1, start: 1, length: 1), context: other, caches: caches) }
        for (c, k) in zip(caches, keys) { #expect(c.crossAttention.keys!.storage === k.storage) }
        let full = GradMode.withoutGrad { decoder(ids.narrowed(axis: 1, start: 0, length: 2), context: context) }
        expectClose(step, values(full.narrowed(axis: 1, start: 1, length: 1)), atol: 1e-5, rtol: 0)
    }

    // MARK: Greedy and beam search

    @Test func greedyPicksTheArgmaxOfTheFullForward() throws {
        let (decoder, _, context) = try Self.fixtureDecoder("text_decoder_rotary")
        let prompts = [[1], [2, 3, 4]]
        let out = decoder.generate(context: context, prompts: prompts, options: GenerationOptions(maxNewTokens: 5))
        for (b, sequence) in out.enumerated() {
            #expect(sequence.tokens.count == 5 && sequence.stopToken == nil)
            let ids = prompts[b] + sequence.tokens
            let logits = GradMode.withoutGrad { decoder(Tensor(ids, shape: [1, ids.count]), context: contextRow(context, b)) }.toArray()
            var logP = 0.0
            for (i, token) in sequence.tokens.enumerated() {
                let p = prompts[b].count - 1 + i
                let row = Array(logits[p * 11..<(p + 1) * 11])
                #expect(token == row.indices.max { row[$0] < row[$1] }!, "sample \(b) step \(i)")
                logP += logSoftmaxRow(row)[token]
            }
            #expect(abs(sequence.logProbability - logP) < 1e-4 && sequence.score == sequence.logProbability)
        }
    }

    @Test func greedyEqualsBeamSearchOfWidthOne() {
        let config = TextDecoderConfig(vocabSize: 9, dimension: 8, contextDimension: 6, layers: 2, heads: 2, positions: .rotary,
                                       maxLength: 16, tiedHead: false)
        for seed in [31, 32, 33] as [UInt64] {
            let decoder = randomizedDecoder(config, seed: seed)
            let context = randomContext([4, 2, 3], dimension: 6, seed: seed + 100)
            let prompts = [[0], [1, 5], [2]]
            for stops in [Set<Int>(), [3], [3, 7]] {
                let greedy = decoder.generate(context: context, prompts: prompts,
                                              options: GenerationOptions(strategy: .greedy, maxNewTokens: 8, stopTokens: stops))
                let beam = decoder.generate(context: context, prompts: prompts,
                                            options: GenerationOptions(strategy: .beamSearch(width: 1, lengthPenalty: 0), maxNewTokens: 8,
                                                                       stopTokens: stops))
                for b in 0..<3 {
                    #expect(greedy[b].tokens == beam[b].tokens && greedy[b].stopToken == beam[b].stopToken,
                            "seed \(seed) stops \(stops) sample \(b): greedy \(greedy[b]) beam \(beam[b])")
                    #expect(abs(greedy[b].logProbability - beam[b].logProbability) < 1e-9)
                }
            }
        }
    }

    /// Every sequence the decoder can emit: non-stop tokens, ended by a stop token or by the limit.
    static func allSequences(vocab: Int, stop: Int, limit: Int) -> [(tokens: [Int], stop: Int?)] {
        var out: [(tokens: [Int], stop: Int?)] = []
        var prefixes: [[Int]] = [[]]
        for length in 1...limit {
            var longer: [[Int]] = []
            for p in prefixes {
                out.append((p, stop))                                   // ended by the stop token
                for t in 0..<vocab where t != stop { longer.append(p + [t]) }
            }
            prefixes = longer
            if length == limit { out += prefixes.map { ($0, nil) } }
        }
        return out
    }

    @Test func beamSearchEqualsExhaustiveSearch() {
        let (vocab, stop, limit) = (4, 3, 4)
        let config = TextDecoderConfig(vocabSize: vocab, dimension: 8, contextDimension: 5, layers: 2, heads: 2, positions: .learned,
                                       maxLength: 8)
        let sequences = Self.allSequences(vocab: vocab, stop: stop, limit: limit)
        #expect(sequences.count == 1 + 3 + 9 + 27 + 81)
        var disagreements = 0   // how often greedy misses the raw-log-probability optimum: the search must matter
        for seed in [42, 44, 46] as [UInt64] {
            let decoder = randomizedDecoder(config, seed: seed)
            let context = randomContext([3, 2], dimension: 5, seed: seed + 1)
            let prompts = [[0], [1, 2]]                                   // different lengths: forced steps
            let logPs = (0..<2).map { b in
                batchedLogProbabilities(decoder, prompt: prompts[b], generated: sequences.map { $0.tokens + ($0.stop.map { [$0] } ?? []) },
                                        context: contextRow(context, b))
            }
            let greedy = decoder.generate(context: context, prompts: prompts,
                                          options: GenerationOptions(maxNewTokens: limit, stopTokens: [stop]))
            for penalty in [0, 0.5, 1, 2, 3] {
                // width vocab^limit holds every sequence
                let beam = decoder.generate(context: context, prompts: prompts,
                                            options: GenerationOptions(strategy: .beamSearch(width: 256, lengthPenalty: penalty),
                                                                       maxNewTokens: limit, stopTokens: [stop]))
                for b in 0..<2 {
                    let scores = zip(sequences, logPs[b]).map { s, logP in
                        logP / pow(Double(s.tokens.count + (s.stop == nil ? 0 : 1)), penalty)
                    }
                    let order = scores.indices.sorted { scores[$0] > scores[$1] }
                    let best = sequences[order[0]]
                    let what = "seed \(seed) penalty \(penalty) sample \(b)"
                    #expect(abs(beam[b].score - scores[order[0]]) < 1e-5, "\(what): beam \(beam[b].score) vs exhaustive \(scores[order[0]])")
                    if scores[order[0]] - scores[order[1]] > 1e-4 {
                        #expect(beam[b].tokens == best.tokens && beam[b].stopToken == best.stop,
                                "\(what): beam \(beam[b]) vs exhaustive \(best)")
                    }
                    if penalty == 0 && (greedy[b].tokens != best.tokens || greedy[b].stopToken != best.stop) { disagreements += 1 }
                }
            }
        }
        #expect(disagreements > 0, "greedy found the optimum every time; the test does not exercise beam search")
    }

    @Test func beamSearchRespectsStopTokensAndLimits() {
        let config = TextDecoderConfig(vocabSize: 7, dimension: 8, layers: 1, heads: 2, maxLength: 6)
        let decoder = randomizedDecoder(config, seed: 51)
        let context = randomContext([2, 3], dimension: 8, seed: 52)
        for strategy in [DecodingStrategy.greedy, .beamSearch(width: 3), .sampling(TokenSampler(temperature: 1.5))] {
            // a 4-token prompt leaves 2 positions of the 6 the learned table has
            let out = decoder.generate(context: context, prompts: [[0], [1, 2, 3, 4]],
                                       options: GenerationOptions(strategy: strategy, maxNewTokens: 4, stopTokens: [5, 6]),
                                       generator: Generator(seed: 53))
            #expect(out[0].tokens.count <= 4 && out[1].tokens.count <= 2, "\(strategy): \(out)")
            for s in out {
                #expect(!s.tokens.contains(5) && !s.tokens.contains(6))
                if s.stopToken == nil { #expect(s.tokens.count == 4 || s.tokens.count == 2) }
            }
        }
        let none = decoder.generate(context: context, prompts: [[0], [1]], options: GenerationOptions(maxNewTokens: 0))
        #expect(none.allSatisfy { $0.tokens.isEmpty && $0.stopToken == nil })
    }

    // MARK: Sampling

    /// The filtered distribution written independently of TokenSampler: top-k by the k-th largest
    /// value, then transformers' top-p (sort ascending, drop while the cumulative mass ≤ 1 − p).
    static func referenceDistribution(_ logits: [Float], temperature: Double, topK: Int?, topP: Double?) -> [Double] {
        let z = logits.map { Double($0) / temperature }
        var allowed = Array(z.indices)
        if let topK { let kth = z.sorted(by: >)[topK - 1]; allowed = allowed.filter { z[$0] >= kth } }
        func softmax(_ ids: [Int]) -> [Int: Double] {
            let m = ids.map { z[$0] }.max()!
            let e = ids.map { exp(z[$0] - m) }, s = e.reduce(0, +)
            return Dictionary(uniqueKeysWithValues: zip(ids, e.map { $0 / s }))
        }
        var p = softmax(allowed)
        if let topP {
            let ascending = allowed.sorted { p[$0]! < p[$1]! }
            var cumulative = 0.0
            var removed = Set<Int>()
            for (i, id) in ascending.enumerated() {
                cumulative += p[id]!
                if cumulative <= 1 - topP && i < ascending.count - 1 { removed.insert(id) }
            }
            p = softmax(allowed.filter { !removed.contains($0) })
        }
        return z.indices.map { p[$0] ?? 0 }
    }

    static let samplerCases: [TokenSampler] = [
        TokenSampler(temperature: 1), TokenSampler(temperature: 0.7, topK: 4), TokenSampler(temperature: 1.3, topP: 0.8),
        TokenSampler(temperature: 0.9, topK: 6, topP: 0.75), TokenSampler(temperature: 1, topK: 1),
    ]

    @Test func samplerDistributionsMatchTheReference() {
        let logits: [Float] = [1.2, -0.4, 2.3, 0.1, -1.7, 1.9, 0.6, -0.2, 0.95, -3]
        for sampler in Self.samplerCases {
            // the sampler's Float temperature, widened as it widens it
            let expected = Self.referenceDistribution(logits, temperature: Double(sampler.temperature), topK: sampler.topK,
                                                      topP: sampler.topP)
            let got = sampler.probabilities(logits: logits)
            for i in logits.indices { #expect(abs(got[i] - expected[i]) < 1e-12, "\(sampler) token \(i): \(got[i]) vs \(expected[i])") }
        }
        // top-p keeps the smallest set reaching the mass: tokens 2, 5, 0 hold 0.73 ≥ 0.7, so 8 is dropped
        let p = TokenSampler(temperature: 1, topP: 0.7).probabilities(logits: logits)
        #expect(p.indices.filter { p[$0] > 0 } == [0, 2, 5])
        #expect(TokenSampler(temperature: 0).probabilities(logits: logits) == logits.indices.map { $0 == 2 ? 1 : 0 })
    }

    /// Pearson's χ² of `counts` against `expected` probabilities over the tokens they allow; tokens
    /// with probability 0 must never be drawn.
    static func expectDrawsFollow(_ counts: [Int], _ expected: [Double], _ what: String,
                                  sourceLocation: SourceLocation = #_sourceLocation) {
        let n = Double(counts.reduce(0, +))
        var chi2 = 0.0, kept = 0
        for (c, p) in zip(counts, expected) {
            if p == 0 {
                #expect(c == 0, "\(what): an excluded token was drawn \(c) times", sourceLocation: sourceLocation)
            } else {
                kept += 1
                chi2 += pow(Double(c) - n * p, 2) / (n * p)
            }
        }
        // χ² with at most 9 degrees of freedom exceeds 33 with probability < 1e-4
        #expect(chi2 < 33, "\(what): χ² = \(chi2) over \(kept) tokens, counts \(counts), expected \(expected.map { $0 * n })",
                sourceLocation: sourceLocation)
    }

    @Test func samplerDrawsFollowTheFilteredDistribution() {
        let logits: [Float] = [1.2, -0.4, 2.3, 0.1, -1.7, 1.9, 0.6, -0.2, 0.95, -3]
        for (i, sampler) in Self.samplerCases.enumerated() {
            let g = Generator(seed: 60 + UInt64(i))
            var counts = [Int](repeating: 0, count: logits.count)
            for _ in 0..<20_000 { counts[sampler.sample(logits: logits, generator: g)] += 1 }
            Self.expectDrawsFollow(counts, sampler.probabilities(logits: logits), "\(sampler)")
        }
    }

    @Test func generateSamplesFromTheFilteredDistribution() throws {
        let (decoder, _, context) = try Self.fixtureDecoder("text_decoder_learned")
        let row = contextRow(context, 0)
        let rows = 800
        let batch = ModalityTokens(tokens: row.tokens.indexSelect(axis: 0, indices: Tensor(Array(repeating: 0, count: rows))),
                                   mask: row.mask.indexSelect(axis: 0, indices: Tensor(Array(repeating: 0, count: rows))))
        let prompt = [4, 1]
        let logits = GradMode.withoutGrad { decoder(Tensor(prompt, shape: [1, 2]), context: row) }
            .narrowed(axis: 1, start: 1, length: 1).reshaped([11]).toArray()
        for sampler in [TokenSampler(temperature: 1.5, topK: 5), TokenSampler(temperature: 2, topP: 0.7),
                        TokenSampler(temperature: 1.2, topK: 6, topP: 0.8)] {
            let out = decoder.generate(context: batch, prompts: Array(repeating: prompt, count: rows),
                                       options: GenerationOptions(strategy: .sampling(sampler), maxNewTokens: 1),
                                       generator: Generator(seed: 70))
            var counts = [Int](repeating: 0, count: 11)
            for s in out { counts[s.tokens[0]] += 1 }
            Self.expectDrawsFollow(counts, sampler.probabilities(logits: logits), "generate \(sampler)")
        }
        // seeded draws repeat; top-k 1 is greedy
        let options = GenerationOptions(strategy: .sampling(TokenSampler(temperature: 1.1, topP: 0.9)), maxNewTokens: 4)
        let first = decoder.generate(context: context, prompts: [[1], [2]], options: options, generator: Generator(seed: 71))
        let again = decoder.generate(context: context, prompts: [[1], [2]], options: options, generator: Generator(seed: 71))
        #expect(first == again)
        let topOne = decoder.generate(context: context, prompts: [[1], [2]],
                                      options: GenerationOptions(strategy: .sampling(TokenSampler(temperature: 1, topK: 1)), maxNewTokens: 4),
                                      generator: Generator(seed: 72))
        let greedy = decoder.generate(context: context, prompts: [[1], [2]], options: GenerationOptions(maxNewTokens: 4))
        #expect(topOne.map(\.tokens) == greedy.map(\.tokens))
    }

    // MARK: Training

    @Test func everyParameterGetsAGradient() {
        for (positions, tied) in [(TextDecoderConfig.Positions.learned, true), (.rotary, false)] {
            let config = TextDecoderConfig(vocabSize: 13, dimension: 8, contextDimension: 6, layers: 2, heads: 2,
                                           positions: positions, maxLength: 8, tiedHead: tied)
            let decoder = TextDecoder(config, generator: Generator(seed: 80))
            let context = randomContext([4, 2], dimension: 6, seed: 81)
            let ids = Tensor([1, 5, 7, 2, 9, 3, 0, 0], shape: [2, 4])
            let targets = Tensor([5, 7, 2, 12, 3, 12, -100, -100], shape: [2, 4])     // right padding ignored
            expectGradientsEverywhere(decoder) { m in m.loss(ids, targets: targets, context: context) }
        }
    }

    @Test func kvCacheSelectBatchReordersRows() {
        let cache = KVCache()
        let k = Tensor((0..<12).map(Float.init), shape: [3, 1, 2, 2])
        _ = cache.append(keys: k, values: k * 2)
        cache.selectBatch(Tensor([2, 0, 0, 1]))
        #expect(cache.keys!.shape == [4, 1, 2, 2])
        #expect(cache.keys!.toArray() == [8, 9, 10, 11, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7])
        #expect(cache.values!.toArray() == [8, 9, 10, 11, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7].map { $0 * 2 })
    }
}
