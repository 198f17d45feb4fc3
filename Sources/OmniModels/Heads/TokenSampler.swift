// Drawing the next token from a language model's logits: temperature, then top-k, then top-p
// (nucleus, Holtzman et al. 2020, arXiv:1904.09751), in the order transformers' sampling applies
// its logits warpers. Computed in Double on the CPU: one row of V logits per draw.
import Foundation
import OmniTensor

/// Filters and samples next-token distributions.
///
/// - temperature T: logits are divided by T (T = 0 means greedy: always the largest logit, the
///   lowest id among equals).
/// - topK k: only tokens whose logit is at least the k-th largest survive (ties at the k-th value
///   are kept, as in transformers and nanoGPT).
/// - topP p: of what survives, the most likely tokens are kept in order while the probability of
///   the tokens before them is below p; the smallest set reaching mass p (at least one token).
///
/// The kept probabilities are renormalised and one token is drawn by inverting the cumulative
/// distribution with `generator.nextDouble()`.
///
/// ```swift
/// let sampler = TokenSampler(temperature: 0.8, topK: 40, topP: 0.95)
/// let id = sampler.sample(logits: row, generator: Generator(seed: 7))    // row: [Float] of V logits
/// ```
public struct TokenSampler: Sendable, Equatable {
    public var temperature: Float
    public var topK: Int?
    public var topP: Double?

    public init(temperature: Float = 1, topK: Int? = nil, topP: Double? = nil) {
        precondition(temperature >= 0 && temperature.isFinite, "TokenSampler: temperature must be finite and not negative, got \(temperature)")
        if let topK { precondition(topK >= 1, "TokenSampler: topK must be at least 1, got \(topK)") }
        if let topP { precondition(topP > 0 && topP <= 1, "TokenSampler: topP must be in (0, 1], got \(topP)") }
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    /// Whether every draw is the argmax.
    public var isGreedy: Bool { temperature == 0 }

    /// The distribution draws come from: [V] probabilities summing to 1, exactly 0 for filtered
    /// tokens. (Greedy: 1 at the argmax.)
    public func probabilities(logits: [Float]) -> [Double] {
        precondition(!logits.isEmpty, "TokenSampler: no logits")
        var p = [Double](repeating: 0, count: logits.count)
        if isGreedy {
            p[TokenSampler.argmax(logits)] = 1
            return p
        }
        let scaled = logits.map { Double($0) / Double(temperature) }
        var keep = [Bool](repeating: true, count: scaled.count)
        // -inf logits (masked tokens) are never drawn
        for (i, v) in scaled.enumerated() where v == -.infinity || v.isNaN { keep[i] = false }
        if let topK, topK < scaled.count {
            let kth = scaled.sorted(by: >)[topK - 1]
            for (i, v) in scaled.enumerated() where v < kth { keep[i] = false }
        }
        let peak = zip(scaled, keep).filter(\.1).map(\.0).max() ?? 0
        for i in p.indices where keep[i] { p[i] = Foundation.exp(scaled[i] - peak) }
        normalize(&p)
        if let topP, topP < 1 {
            // stable order: more probable first, lower id first among equals
            let order = p.indices.filter { keep[$0] }.sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }
            var before = 0.0
            for i in order {
                if before >= topP { p[i] = 0 }
                before += p[i] == 0 ? 0 : p[i]
            }
            normalize(&p)
        }
        return p
    }

    /// One token id drawn from ``probabilities(logits:)``.
    public func sample(logits: [Float], generator: Generator?) -> Int {
        if isGreedy { return TokenSampler.argmax(logits) }
        guard let generator else { preconditionFailure("TokenSampler: sampling at temperature \(temperature) needs a generator") }
        let p = probabilities(logits: logits)
        let u = generator.nextDouble()
        var cumulative = 0.0, last = 0
        for (id, q) in p.enumerated() where q > 0 {
            cumulative += q
            last = id
            if u < cumulative { return id }
        }
        // rounding can leave the total just under u: the last token with any probability
        return last
    }

    /// Index of the largest value (the first among equals).
    static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    private func normalize(_ p: inout [Double]) {
        let total = p.reduce(0, +)
        precondition(total > 0 && total.isFinite, "TokenSampler: no token has a finite logit")
        for i in p.indices { p[i] /= total }
    }
}
