// Attention rollout — Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"
// (arXiv:2005.00928), over a Vision Transformer's self-attention.
//
// Each block mixes token j into token i by its attention A[i, j], and the residual connection
// carries token i through unchanged. Per block l the heads are fused (mean, or max), the identity
// is added for the residual and the rows are renormalised:
//
//     Â_l = (A_l + I) / rowsum(A_l + I)          (= ½A_l + ½I when A_l's rows sum to 1)
//
// and the blocks compose by matrix products, R = Â_L · … · Â_2 · Â_1, so R[i, j] is how much input
// token j reaches output token i through every path. A query token's row of R, restricted to the
// patch tokens, is its relevance map. Only one row (or the mean row) is needed, so the rollout is
// computed as a row vector times each Â_l, last block first: O(L·N²) instead of O(L·N³).
import OmniTensor

/// Attention rollout over a ViT's per-block self-attention weights, giving a patch relevance map.
///
/// ```swift
/// let (_, attention) = GradMode.withoutGrad { vit.features(images, returnAttention: true) }
/// let (gh, gw) = vit.grid(height: 64, width: 64)
/// let map = AttentionRollout(source: .classToken)
///     .relevance(attention: attention, sample: 0, prefixTokens: 1, gridHeight: gh, gridWidth: gw)
/// ```
public struct AttentionRollout: Sendable, Equatable {
    /// Whose relevance is rolled out.
    public enum Source: String, Sendable, Codable, CaseIterable {
        /// The class token's row of R (what the class-token summary draws on); needs a class token.
        case classToken = "cls"
        /// The mean of every real token's row (for models pooled by the mean, or without a class token).
        case meanOfTokens = "mean"
    }

    /// How the heads of one block are combined into one attention matrix.
    public enum HeadFusion: String, Sendable, Codable, CaseIterable {
        /// The average over heads (Abnar & Zuidema).
        case mean
        /// The largest weight of any head.
        case max
    }

    public var source: Source
    public var headFusion: HeadFusion

    public init(source: Source = .classToken, headFusion: HeadFusion = .mean) {
        self.source = source
        self.headFusion = headFusion
    }

    /// The rolled-out relevance of each of the first `tokenCount` tokens for one sample: the
    /// source's row of R (see the file header), in Float64.
    ///
    /// - Parameters:
    ///   - attention: one [B, H, N, N] tensor per block, first block first (as
    ///     ``VisionTransformer/features(_:returnAttention:)`` returns them).
    ///   - sample: the batch index.
    ///   - tokenCount: the sample's real tokens (the first n of N; padded keys carry no weight).
    ///     nil: all N.
    /// - Returns: n non-negative values summing to 1.
    public func tokenRelevance(attention: [Tensor], sample: Int = 0, tokenCount: Int? = nil) -> [Double] {
        precondition(!attention.isEmpty, "AttentionRollout: no attention weights (a model with no blocks, or returnAttention not set)")
        let shape = attention[0].shape
        precondition(shape.count == 4 && shape[2] == shape[3], "AttentionRollout: weights must be [B, H, N, N], got \(shape)")
        for (l, a) in attention.enumerated() {
            precondition(a.shape == shape, "AttentionRollout: block \(l)'s weights \(a.shape) differ from block 0's \(shape)")
        }
        let (b, heads, total) = (shape[0], shape[1], shape[2])
        precondition(sample >= 0 && sample < b, "AttentionRollout: sample \(sample) is outside the batch of \(b)")
        let n = tokenCount ?? total
        precondition(n > 0 && n <= total, "AttentionRollout: tokenCount \(n) must be in 1...\(total)")

        var v = [Double](repeating: 0, count: n)
        switch source {
        case .classToken: v[0] = 1
        case .meanOfTokens: v = [Double](repeating: 1 / Double(n), count: n)
        }
        for a in attention.reversed() {
            let m = rolloutMatrix(a, sample: sample, heads: heads, total: total, count: n)   // [n, n] row-major
            var next = [Double](repeating: 0, count: n)
            for i in 0..<n where v[i] != 0 {
                let vi = v[i], row = i * n
                for j in 0..<n { next[j] += vi * m[row + j] }
            }
            v = next
        }
        return v
    }

    /// The patch tokens' relevance as a grid: the tokens after `prefixTokens` (the class token),
    /// `gridHeight × gridWidth` of them in row-major order.
    public func relevance(attention: [Tensor], sample: Int = 0, prefixTokens: Int,
                          gridHeight: Int, gridWidth: Int) -> RelevanceMap {
        precondition(prefixTokens >= 0, "AttentionRollout: prefixTokens must not be negative")
        precondition(source != .classToken || prefixTokens >= 1,
                     "AttentionRollout: source .classToken needs a class token (prefixTokens ≥ 1); use .meanOfTokens")
        let n = prefixTokens + gridHeight * gridWidth
        let r = tokenRelevance(attention: attention, sample: sample, tokenCount: n)
        return RelevanceMap(height: gridHeight, width: gridWidth, values: Array(r[prefixTokens...]))
    }

    /// Â for one block and sample: heads fused, restricted to the first `count` tokens, identity
    /// added, rows renormalised.
    func rolloutMatrix(_ attention: Tensor, sample: Int, heads: Int, total: Int, count n: Int) -> [Double] {
        let w = attention.narrowed(axis: 0, start: sample, length: 1).toArray()   // [H·N·N]
        var m = [Double](repeating: headFusion == .max ? -Double.infinity : 0, count: n * n)
        for h in 0..<heads {
            for i in 0..<n {
                let base = (h * total + i) * total
                for j in 0..<n {
                    let x = Double(w[base + j])
                    switch headFusion {
                    case .mean: m[i * n + j] += x / Double(heads)
                    case .max: m[i * n + j] = Swift.max(m[i * n + j], x)
                    }
                }
            }
        }
        for i in 0..<n {
            m[i * n + i] += 1
            var sum = 0.0
            for j in 0..<n { sum += m[i * n + j] }
            for j in 0..<n { m[i * n + j] /= sum }
        }
        return m
    }
}
