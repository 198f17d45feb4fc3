// GPT: a decoder-only Transformer language model, following Karpathy's nanoGPT `model.py`
// (github.com/karpathy/nanoGPT), which follows GPT-2 (Radford et al., "Language Models are
// Unsupervised Multitask Learners", 2019):
//
//   ids [B, T] ─ wte ─┐
//                     + ─ drop ─ N × block ─ ln_f ─ lm_head ─ logits [B, T, V]
//   0..<T ────── wpe ─┘
//
// where a block is pre-LN: x + attn(ln1(x)), then x + mlp(ln2(x)), with causal multi-head
// self-attention and a GELU MLP of `mlpRatio · dimension` hidden units (OmniNN's
// `TransformerEncoderLayer` with `isCausal: true`). Positions are learned, so the model reads at
// most `contextLength` tokens at a time.
//
// Checkpoint keys: `wte.weight`, `wpe.weight`, `h.{i}.norm1.{weight,bias}`,
// `h.{i}.self_attn.{q,k,v,out}_proj.{weight,bias}`, `h.{i}.norm2.*`, `h.{i}.mlp.fc{1,2}.*`,
// `ln_f.*`, and `lm_head.weight` unless the head is tied to `wte`.

import Foundation
import OmniNN
import OmniOptim
import OmniTensor

/// The hyper-parameters of a ``GPT`` (nanoGPT's `GPTConfig`).
///
/// ```swift
/// let config = GPTConfig(vocabSize: 8192, contextLength: 256, dimension: 256, layers: 4, heads: 4)
/// let data = try JSONEncoder().encode(config)   // saved next to the weights
/// ```
public struct GPTConfig: Codable, Sendable, Equatable {
    /// Number of token ids.
    public var vocabSize: Int
    /// Longest sequence the model reads (rows of the position table).
    public var contextLength: Int
    /// Width of the residual stream.
    public var dimension: Int
    /// Number of Transformer blocks.
    public var layers: Int
    /// Attention heads per block; must divide `dimension`.
    public var heads: Int
    /// MLP hidden size as a multiple of `dimension` (4 in GPT-2).
    public var mlpRatio: Int
    /// Dropout on embeddings, attention weights and residual branches (training only).
    public var dropout: Float
    /// Whether linear layers and LayerNorms have biases.
    public var bias: Bool
    /// Whether the output head reuses the token embedding matrix (GPT-2 ties them).
    public var tiedHead: Bool

    public init(vocabSize: Int, contextLength: Int, dimension: Int, layers: Int, heads: Int, mlpRatio: Int = 4,
                dropout: Float = 0, bias: Bool = true, tiedHead: Bool = false) {
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.dimension = dimension
        self.layers = layers
        self.heads = heads
        self.mlpRatio = mlpRatio
        self.dropout = dropout
        self.bias = bias
        self.tiedHead = tiedHead
    }

    /// The model timed by ``GPT/benchmarkTrainingStep(config:batch:sequence:steps:warmup:seed:)``
    /// (DESIGN.md §6): vocabulary 8192, width 256, 4 layers of 4 heads, context 256, untied head.
    public static let benchmark = GPTConfig(vocabSize: 8192, contextLength: 256, dimension: 256, layers: 4, heads: 4)
}

/// A GPT-2-style language model built from OmniNN layers.
///
/// ```swift
/// let model = GPT(GPTConfig(vocabSize: 320, contextLength: 64, dimension: 64, layers: 2, heads: 4),
///                 generator: Generator(seed: 0))
/// let (loss, grads) = valueAndGrad(model) { m in m.loss(inputs, targets: targets) }   // [B, T] each
/// optimizer.update(model, gradients: grads)
/// let text = model.generate(prompt: [first], maxNewTokens: 100, temperature: 0)       // greedy
/// ```
public final class GPT: Module, @unchecked Sendable {
    @ModuleInfo(key: "wte") public var tokenEmbedding: Embedding
    @ModuleInfo(key: "wpe") public var positionEmbedding: Embedding
    @ModuleInfo(key: "drop") var embeddingDropout: Dropout
    @ModuleInfo(key: "h") public var blocks: [TransformerEncoderLayer]
    @ModuleInfo(key: "ln_f") public var finalNorm: LayerNorm
    /// nil when the head is tied to ``tokenEmbedding``.
    @ModuleInfo(key: "lm_head") public var head: Linear?
    public let config: GPTConfig

    /// A freshly initialised model; every random draw comes from `generator`, in a fixed order.
    public init(_ config: GPTConfig, generator: Generator) {
        precondition(config.vocabSize > 0 && config.contextLength > 0 && config.layers >= 0 && config.mlpRatio > 0,
                     "GPT: invalid config \(config)")
        precondition(config.heads > 0 && config.dimension % config.heads == 0,
                     "GPT: dimension \(config.dimension) is not divisible by \(config.heads) heads")
        self.config = config
        super.init()
        let d = config.dimension
        tokenEmbedding = Embedding(config.vocabSize, d, generator: generator)
        positionEmbedding = Embedding(config.contextLength, d, generator: generator)
        embeddingDropout = Dropout(config.dropout, generator: generator)
        blocks = (0..<config.layers).map { _ in
            TransformerEncoderLayer(dimension: d, heads: config.heads, mlpHiddenSize: config.mlpRatio * d,
                                    activation: .gelu, placement: .pre, isCausal: true,
                                    dropout: config.dropout, bias: config.bias, generator: generator)
        }
        finalNorm = LayerNorm(d, bias: config.bias)
        head = config.tiedHead ? nil : Linear(d, config.vocabSize, bias: false, generator: generator)

        // nanoGPT's initialisation: N(0, 0.02) for every matrix and embedding, zero biases, and the
        // two projections that write into the residual stream (attention output, MLP fc2) scaled
        // down by √(2·layers) so the stream's variance does not grow with depth (GPT-2 §2.3).
        let residualStd = 0.02 / Float(max(2 * config.layers, 1)).squareRoot()
        var initial: [String: Tensor] = [:]
        for (path, p) in trainableParameters() {
            if p.rank == 2 {
                let writesResidual = path.hasSuffix("out_proj.weight") || path.hasSuffix("fc2.weight")
                initial[path] = Tensor.normal(p.shape, std: writesResidual ? residualStd : 0.02, generator: generator)
            } else if path.hasSuffix(".bias") {
                initial[path] = Tensor.zeros(p.shape)
            }
        }
        update(initial)
    }

    /// Fresh per-layer caches for ``callAsFunction(_:caches:)``.
    public func makeCaches() -> [KVCache] { blocks.map { _ in KVCache() } }

    /// Logits for every position: ids [B, T] (integer) → [B, T, vocabSize].
    ///
    /// With `caches` (one per layer, from ``makeCaches()``) the ids continue the sequence the caches
    /// hold: they sit at positions `caches[0].length ..< caches[0].length + T`, and the caches grow
    /// by T. Cached positions plus T must fit in `contextLength`.
    public func callAsFunction(_ ids: Tensor, caches: [KVCache]? = nil) -> Tensor {
        precondition(ids.rank == 2 && !ids.dtype.isFloatingPoint && ids.dtype != .bool,
                     "GPT: ids must be integer [B, T], got \(ids.dtype) \(ids.shape)")
        if let caches { precondition(caches.count == blocks.count, "GPT: \(caches.count) caches for \(blocks.count) layers") }
        let t = ids.shape[1]
        let start = caches?.first?.length ?? 0
        precondition(start + t <= config.contextLength,
                     "GPT: positions \(start)..<\(start + t) exceed the context length \(config.contextLength) (ids \(ids.shape))")
        let positions = positionEmbedding.weight.narrowed(axis: 0, start: start, length: t)   // [T, D]
        var x = embeddingDropout(tokenEmbedding(ids) + positions)                             // [B, T, D]
        for (i, block) in blocks.enumerated() {
            x = block(x, cache: caches?[i]).output                                             // [B, T, D]
        }
        x = finalNorm(x)
        if let head { return head(x) }                                                        // [B, T, V]
        return x.linear(weight: tokenEmbedding.weight)                                        // [B, T, V]
    }

    /// Mean cross-entropy of predicting `targets` [B, T] (usually `ids` shifted left by one)
    /// from `ids` [B, T].
    public func loss(_ ids: Tensor, targets: Tensor) -> Tensor {
        precondition(targets.shape == ids.shape, "GPT.loss: targets \(targets.shape) must have the shape of ids \(ids.shape)")
        let logits = self(ids)                                                                // [B, T, V]
        return Tensor.crossEntropy(logits: logits.reshaped([-1, config.vocabSize]), targets: targets.reshaped([-1]))
    }

    // MARK: Generation

    /// Continues `prompt` by `maxNewTokens` tokens and returns prompt + continuation.
    ///
    /// Each step samples from `softmax(logits / temperature)` restricted to the `topK` most likely
    /// tokens (ties at the k-th value kept, as nanoGPT), drawing from `generator`; temperature 0 is
    /// greedy (argmax) and needs no generator. Runs in evaluation mode without recording gradients.
    ///
    /// With `cached` (the default) each layer keeps its keys and values in a ``KVCache``, so a step
    /// feeds only the new token. Positions are learned, so once the sequence is longer than
    /// `contextLength` the window slides and every step re-reads the last `contextLength` tokens,
    /// as nanoGPT does; `cached: false` always re-reads the window, which gives the same tokens.
    ///
    /// ```swift
    /// let greedy = model.generate(prompt: [0], maxNewTokens: 50, temperature: 0)
    /// let sampled = model.generate(prompt: [0], maxNewTokens: 50, temperature: 0.8, topK: 40,
    ///                              generator: Generator(seed: 1))
    /// ```
    public func generate(prompt: [Int], maxNewTokens: Int, temperature: Float = 1, topK: Int? = nil,
                         generator: Generator? = nil, cached: Bool = true) -> [Int] {
        precondition(!prompt.isEmpty, "GPT.generate: the prompt must hold at least one token")
        precondition(prompt.allSatisfy { (0..<config.vocabSize).contains($0) },
                     "GPT.generate: prompt ids must be in 0..<\(config.vocabSize)")
        precondition(maxNewTokens >= 0 && temperature >= 0, "GPT.generate: maxNewTokens \(maxNewTokens) and temperature \(temperature) must not be negative")
        precondition(temperature == 0 || generator != nil, "GPT.generate: sampling at temperature \(temperature) needs a generator")
        if let topK { precondition(topK >= 1, "GPT.generate: topK must be at least 1, got \(topK)") }
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }

        var tokens = prompt
        let caches = makeCaches()
        var cacheStart = 0   // sequence index of the caches' position 0
        GradMode.withoutGrad {
            for _ in 0..<maxNewTokens {
                let windowStart = max(0, tokens.count - config.contextLength)
                let logits: Tensor
                if cached {
                    if windowStart != cacheStart {
                        // the window slid: every position moved, so the cached keys are stale
                        for c in caches { c.reset() }
                        cacheStart = windowStart
                    }
                    let fed = cacheStart + caches[0].length
                    logits = lastLogits(self(Tensor(Array(tokens[fed...]), shape: [1, tokens.count - fed]), caches: caches))
                } else {
                    logits = lastLogits(self(Tensor(Array(tokens[windowStart...]), shape: [1, tokens.count - windowStart])))
                }
                tokens.append(nextToken(logits, temperature: temperature, topK: topK, generator: generator))
            }
        }
        return tokens
    }

    /// The logits of the last position of [1, T, V], as [V].
    private func lastLogits(_ logits: Tensor) -> Tensor {
        logits.narrowed(axis: 1, start: logits.shape[1] - 1, length: 1).reshaped([config.vocabSize])
    }

    /// Greedy (temperature 0) or a draw from the tempered, top-k-restricted distribution over
    /// `logits` [V].
    func nextToken(_ logits: Tensor, temperature: Float, topK: Int?, generator: Generator?) -> Int {
        if temperature == 0 { return logits.argmax(axis: 0).toIntArray()[0] }
        var scaled = logits * (1 / temperature)                                               // [V]
        if let topK, topK < config.vocabSize {
            let kth = scaled.topK(topK).values.narrowed(axis: 0, start: topK - 1, length: 1)   // [1]
            scaled = Tensor.where(scaled.compared(.less, kth), Tensor(-Float.infinity), scaled)
        }
        let probabilities = scaled.softmax(axis: 0).toArray()
        // inverse-CDF draw; rounding can leave the total just under u, so fall back to the last
        // token that has any probability
        let u = generator!.nextDouble() * probabilities.reduce(0.0) { $0 + Double($1) }
        var cumulative = 0.0
        var last = 0
        for (id, p) in probabilities.enumerated() where p > 0 {
            cumulative += Double(p)
            last = id
            if u < cumulative { return id }
        }
        return last
    }
}

// MARK: Training-step benchmark

/// Times of one training step (forward, backward and AdamW update) over several runs.
public struct TrainingStepTiming: Sendable, Codable {
    /// Each timed step, in milliseconds, in the order run.
    public let milliseconds: [Double]
    /// Threads Omni and oneDNN used.
    public let threads: Int
    /// Tokens per step (batch × sequence).
    public let tokensPerStep: Int
    /// Loss of the last timed step (a sanity check that the model trained on something).
    public let finalLoss: Float

    public var median: Double { milliseconds.sorted()[milliseconds.count / 2] }
    public var min: Double { milliseconds.min()! }
    public var max: Double { milliseconds.max()! }
}

extension GPT {
    /// Times training steps of a freshly initialised GPT on random token ids: forward, cross-entropy,
    /// backward and an AdamW update (with global-norm clipping to 1, as a real loop does), each step
    /// on a new random batch. Uses the current ``Threads/count``.
    ///
    /// The reference point is PyTorch running the same model (`scripts/bench-train-gpt.sh`).
    ///
    /// ```swift
    /// Threads.count = 2
    /// let t = GPT.benchmarkTrainingStep(config: .benchmark, batch: 8, sequence: 256, steps: 5)
    /// print(t.median, t.min, t.max)   // milliseconds
    /// ```
    public static func benchmarkTrainingStep(config: GPTConfig = .benchmark, batch: Int = 8, sequence: Int = 256,
                                             steps: Int = 5, warmup: Int = 1, seed: UInt64 = 0) -> TrainingStepTiming {
        precondition(batch > 0 && sequence > 0 && sequence <= config.contextLength && steps > 0 && warmup >= 0,
                     "GPT.benchmarkTrainingStep: batch \(batch), sequence \(sequence) (context \(config.contextLength)), steps \(steps), warmup \(warmup)")
        let generator = Generator(seed: seed)
        let model = GPT(config, generator: generator)
        let optimizer = AdamW(learningRate: 3e-4, weightDecay: 0.1)
        var times: [Double] = []
        var loss: Float = .nan
        for step in 0..<(warmup + steps) {
            let ids = Tensor.randint([batch, sequence + 1], low: 0, high: config.vocabSize, generator: generator)
            let inputs = ids.narrowed(axis: 1, start: 0, length: sequence)                   // [B, T]
            let targets = ids.narrowed(axis: 1, start: 1, length: sequence)                  // [B, T]
            let start = ContinuousClock.now
            let (value, gradients) = valueAndGrad(model) { m in m.loss(inputs, targets: targets) }
            optimizer.update(model, gradients: clipByGlobalNorm(gradients, maxNorm: 1).gradients)
            let elapsed = ContinuousClock.now - start
            loss = value.item()
            if step >= warmup { times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3) }
        }
        return TrainingStepTiming(milliseconds: times, threads: Threads.count, tokensPerStep: batch * sequence, finalLoss: loss)
    }
}
