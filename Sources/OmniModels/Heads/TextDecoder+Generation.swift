// Writing text with a TextDecoder: greedy decoding, beam search, and top-k / top-p sampling with
// temperature, batched over the fused tokens of several samples, with stop tokens and a length limit.
//
// Every strategy runs the decoder incrementally with KV caches. All rows advance in lockstep, one
// position per step; a row whose prompt is longer than the shortest one is fed its own prompt
// tokens until it has read them all ("forced" steps), so prompts of different lengths batch
// without padding and every row sees exactly its own tokens at its own positions.
//
// Beam search keeps `width` hypotheses per sample (the cache rows are reordered to follow them).
// Each step ranks the 2·width best continuations of the live hypotheses by summed log-probability;
// a continuation ending in a stop token becomes a finished hypothesis when it ranks among the first
// `width` (as transformers' BeamSearchScorer), the others continue, up to `width` of them.
// Finished hypotheses are compared by `logP / length^lengthPenalty`, length counting the generated
// tokens including the stop token. A sample is done when no live hypothesis can still beat its best
// finished one — bounded exactly: log-probabilities only fall as a hypothesis grows, so its score
// can at best reach `logP / maxLength^α` for α > 0, or `logP / (length + 1)^α` for α ≤ 0 — or when
// it reaches the length limit, where the live hypotheses are finished as they are. A width that
// holds every sequence therefore returns exactly the best sequence of an exhaustive search.

import Foundation
import OmniNN
import OmniTensor

/// How ``TextDecoder/generate(context:prompts:options:generator:)`` picks tokens.
public enum DecodingStrategy: Sendable, Equatable {
    /// The most likely token at every step (the lowest id among equals).
    case greedy
    /// Beam search with `width` hypotheses per sample; finished hypotheses are ranked by
    /// `logP / length^lengthPenalty` (0: raw log-probability, which favours short outputs; 1: per-token average).
    case beamSearch(width: Int, lengthPenalty: Double = 1)
    /// A draw from the filtered distribution of ``TokenSampler`` at every step (needs a generator).
    case sampling(TokenSampler)
}

/// Settings of one ``TextDecoder/generate(context:prompts:options:generator:)`` call.
public struct GenerationOptions: Sendable, Equatable {
    public var strategy: DecodingStrategy
    /// Most tokens generated per sample (also bounded by the decoder's `maxLength` minus the prompt).
    public var maxNewTokens: Int
    /// Tokens that end a sequence (the stop token itself is not part of the returned tokens).
    public var stopTokens: Set<Int>

    public init(strategy: DecodingStrategy = .greedy, maxNewTokens: Int, stopTokens: Set<Int> = []) {
        if case .beamSearch(let width, let penalty) = strategy {
            precondition(width >= 1 && penalty.isFinite, "GenerationOptions: beam width \(width) must be at least 1 and the length penalty finite")
        }
        precondition(maxNewTokens >= 0, "GenerationOptions: maxNewTokens must not be negative, got \(maxNewTokens)")
        self.strategy = strategy
        self.maxNewTokens = maxNewTokens
        self.stopTokens = stopTokens
    }
}

/// One sample's generated text.
public struct GeneratedSequence: Sendable, Equatable {
    /// The generated ids, without the prompt and without the stop token.
    public var tokens: [Int]
    /// The stop token that ended the sequence, or nil when it reached the length limit.
    public var stopToken: Int?
    /// Sum of the model's log-probabilities (temperature 1, unfiltered) of the generated tokens,
    /// the stop token included.
    public var logProbability: Double
    /// What beam search ranks by: `logProbability / length^lengthPenalty` (other strategies:
    /// `logProbability`).
    public var score: Double

    /// Generated tokens counted for the length penalty (the stop token included).
    public var length: Int { tokens.count + (stopToken == nil ? 0 : 1) }
}

extension TextDecoder {
    /// Generates a continuation of each prompt, attending to that sample's fused tokens.
    ///
    /// Runs in evaluation mode without recording gradients. `prompts[b]` (at least one token, e.g.
    /// a start token, plus any task prompt) conditions row `b` of `context`; prompts may differ in
    /// length.
    ///
    /// ```swift
    /// let options = GenerationOptions(strategy: .sampling(TokenSampler(temperature: 0.7, topP: 0.9)),
    ///                                 maxNewTokens: 40, stopTokens: [eos])
    /// let outputs = decoder.generate(context: fused, prompts: [[bos], [bos, task]], options: options,
    ///                                generator: Generator(seed: 1))
    /// print(outputs[0].tokens)
    /// ```
    public func generate(context: ModalityTokens, prompts: [[Int]], options: GenerationOptions,
                         generator: Generator? = nil) -> [GeneratedSequence] {
        precondition(prompts.count == context.batchSize,
                     "TextDecoder.generate: \(prompts.count) prompts for a context batch of \(context.batchSize)")
        precondition(context.dimension == config.contextDimension,
                     "TextDecoder.generate: context tokens \(context.tokens.shape) must have \(config.contextDimension) features")
        for (b, prompt) in prompts.enumerated() {
            precondition(!prompt.isEmpty && prompt.count <= config.maxLength,
                         "TextDecoder.generate: prompt \(b) must hold 1...\(config.maxLength) tokens, got \(prompt.count)")
            precondition(prompt.allSatisfy { (0..<config.vocabSize).contains($0) },
                         "TextDecoder.generate: prompt \(b) has ids outside 0..<\(config.vocabSize)")
        }
        if case .sampling(let sampler) = options.strategy {
            precondition(sampler.isGreedy || generator != nil, "TextDecoder.generate: sampling needs a generator")
        }
        if prompts.isEmpty { return [] }
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return GradMode.withoutGrad {
            switch options.strategy {
            case .greedy:
                return decodeStepwise(context: context, prompts: prompts, options: options, sampler: TokenSampler(temperature: 0),
                                      generator: nil)
            case .sampling(let sampler):
                return decodeStepwise(context: context, prompts: prompts, options: options, sampler: sampler, generator: generator)
            case .beamSearch(let width, let lengthPenalty):
                return beamSearch(context: context, prompts: prompts, options: options, width: width, lengthPenalty: lengthPenalty)
            }
        }
    }

    // MARK: Shared steps

    /// New tokens sample `b` may generate.
    private func limit(_ prompt: [Int], _ options: GenerationOptions) -> Int {
        Swift.min(options.maxNewTokens, config.maxLength - prompt.count)
    }

    /// Feeds `ids` (rows of equal length) and returns the last position's logits per row, [R][V].
    private func lastLogits(_ ids: [[Int]], context: ModalityTokens, caches: [TransformerDecoderLayer.Caches]) -> [[Float]] {
        let (r, n) = (ids.count, ids[0].count)
        let logits = self(Tensor(ids.flatMap { $0 }, shape: [r, n], dtype: .int32), context: context, caches: caches)   // [R, n, V]
        let v = config.vocabSize
        let flat = logits.narrowed(axis: 1, start: n - 1, length: 1).contiguous().toArray()                         // [R·V]
        return (0..<r).map { Array(flat[$0 * v..<($0 + 1) * v]) }
    }

    /// log-softmax of one row, in Double.
    private static func logSoftmax(_ row: [Float]) -> [Double] {
        let peak = Double(row.max()!)
        let total = row.reduce(0.0) { $0 + Foundation.exp(Double($1) - peak) }
        let shift = peak + Foundation.log(total)
        return row.map { Double($0) - shift }
    }

    // MARK: Greedy and sampling

    private func decodeStepwise(context: ModalityTokens, prompts: [[Int]], options: GenerationOptions,
                                sampler: TokenSampler, generator: Generator?) -> [GeneratedSequence] {
        let b = prompts.count
        let limits = prompts.map { limit($0, options) }
        var results = (0..<b).map { _ in GeneratedSequence(tokens: [], stopToken: nil, logProbability: 0, score: 0) }
        var done = limits.map { $0 <= 0 }
        if done.allSatisfy({ $0 }) { return results }

        let caches = makeCaches()
        let common = prompts.map(\.count).min()!
        var logits = lastLogits(prompts.map { Array($0.prefix(common)) }, context: context, caches: caches)
        var t = common   // positions fed so far
        while true {
            var next = [Int](repeating: 0, count: b)
            for i in 0..<b {
                if t < prompts[i].count { next[i] = prompts[i][t]; continue }
                if done[i] { next[i] = prompts[i][0]; continue }   // any valid id; the row is ignored
                let token = sampler.sample(logits: logits[i], generator: generator)
                let logP = TextDecoder.logSoftmax(logits[i])[token]
                results[i].logProbability += logP
                results[i].score = results[i].logProbability
                if options.stopTokens.contains(token) {
                    results[i].stopToken = token
                    done[i] = true
                } else {
                    results[i].tokens.append(token)
                    done[i] = results[i].tokens.count >= limits[i]
                }
                next[i] = token
            }
            if done.allSatisfy({ $0 }) { return results }
            logits = lastLogits(next.map { [$0] }, context: context, caches: caches)
            t += 1
        }
    }

    // MARK: Beam search

    private struct Hypothesis {
        var tokens: [Int]
        var logProbability: Double
    }

    private func beamSearch(context: ModalityTokens, prompts: [[Int]], options: GenerationOptions, width: Int,
                            lengthPenalty: Double) -> [GeneratedSequence] {
        let b = prompts.count, v = config.vocabSize
        let limits = prompts.map { limit($0, options) }
        func score(_ logP: Double, length: Int) -> Double { logP / Foundation.pow(Double(length), lengthPenalty) }

        // live hypotheses per sample (nil = an empty slot) and finished ones
        var beams: [[Hypothesis?]] = (0..<b).map { _ in [Hypothesis(tokens: [], logProbability: 0)] + Array(repeating: nil, count: width - 1) }
        var finished: [[GeneratedSequence]] = Array(repeating: [], count: b)
        var done = limits.map { $0 <= 0 }
        func best(_ i: Int) -> GeneratedSequence {
            finished[i].max { $0.score < $1.score } ?? GeneratedSequence(tokens: [], stopToken: nil, logProbability: 0, score: 0)
        }
        if done.allSatisfy({ $0 }) { return (0..<b).map(best) }

        // prefill the shared prompt prefix once per sample, then give every beam a copy of its cache
        let caches = makeCaches()
        let common = prompts.map(\.count).min()!
        let prefix = lastLogits(prompts.map { Array($0.prefix(common)) }, context: context, caches: caches)   // [B][V]
        let expand = Tensor((0..<b * width).map { $0 / width })
        for c in caches { c.selfAttention.selectBatch(expand); c.crossAttention.selectBatch(expand) }
        let beamContext = ModalityTokens(tokens: context.tokens.indexSelect(axis: 0, indices: expand),
                                         mask: context.mask.indexSelect(axis: 0, indices: expand))
        var logits = (0..<b * width).map { prefix[$0 / width] }                                              // [B·W][V]
        var t = common

        while true {
            var next = [Int](repeating: 0, count: b * width)
            var source = Array(0..<b * width)   // cache row each new row continues
            for i in 0..<b {
                let rows = i * width..<(i + 1) * width
                if t < prompts[i].count { for r in rows { next[r] = prompts[i][t] }; continue }
                if done[i] { for r in rows { next[r] = prompts[i][0] }; continue }

                // the 2·W best continuations (ties: lower beam, then lower id first)
                let keep = Swift.min(2 * width, width * v)
                var candidates: [(logP: Double, beam: Int, token: Int)] = []
                candidates.reserveCapacity(keep + 1)
                for (w, hypothesis) in beams[i].enumerated() {
                    guard let hypothesis else { continue }
                    let logP = TextDecoder.logSoftmax(logits[i * width + w])
                    for token in 0..<v {
                        let total = hypothesis.logProbability + logP[token]
                        guard total > -.infinity else { continue }
                        if candidates.count == keep && total <= candidates[keep - 1].logP { continue }
                        let at = candidates.firstIndex { total > $0.logP } ?? candidates.count
                        candidates.insert((total, w, token), at: at)
                        if candidates.count > keep { candidates.removeLast() }
                    }
                }

                let generated = t - prompts[i].count + 1   // tokens generated after this step
                var live: [(Hypothesis, Int)] = []         // (hypothesis, source beam)
                for (rank, c) in candidates.enumerated() {
                    var tokens = beams[i][c.beam]!.tokens
                    if options.stopTokens.contains(c.token) {
                        if rank < width {
                            finished[i].append(GeneratedSequence(tokens: tokens, stopToken: c.token, logProbability: c.logP,
                                                                 score: score(c.logP, length: generated)))
                        }
                    } else if live.count < width {
                        tokens.append(c.token)
                        live.append((Hypothesis(tokens: tokens, logProbability: c.logP), c.beam))
                    }
                }
                for (w, r) in rows.enumerated() {
                    if w < live.count {
                        beams[i][w] = live[w].0
                        next[r] = live[w].0.tokens.last!
                        source[r] = i * width + live[w].1
                    } else {
                        beams[i][w] = nil
                        next[r] = prompts[i][0]
                    }
                }

                if generated >= limits[i] {
                    for h in live {
                        finished[i].append(GeneratedSequence(tokens: h.0.tokens, stopToken: nil, logProbability: h.0.logProbability,
                                                             score: score(h.0.logProbability, length: generated)))
                    }
                    done[i] = true
                } else if live.isEmpty {
                    done[i] = true
                } else if let top = finished[i].map(\.score).max() {
                    let reach = lengthPenalty > 0 ? limits[i] : generated + 1
                    done[i] = live.allSatisfy { score($0.0.logProbability, length: reach) <= top }
                }
            }
            if done.allSatisfy({ $0 }) { break }
            if source != Array(0..<b * width) {
                let order = Tensor(source)
                for c in caches { c.selfAttention.selectBatch(order) }
            }
            logits = lastLogits(next.map { [$0] }, context: beamContext, caches: caches)
            t += 1
        }
        return (0..<b).map(best)
    }
}
