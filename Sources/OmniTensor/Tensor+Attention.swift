/// What ``Tensor/scaledDotProductAttention(query:key:value:keyPadding:mask:isCausal:window:scale:dropout:generator:returnWeights:)``
/// returns.
public struct AttentionResult: Sendable {
    /// The attended values: [B, H, Tq, Dv] (or [B, Tq, Dv] without heads).
    public let output: Tensor
    /// The attention probabilities [B, H, Tq, Tk] (or [B, Tq, Tk]) before dropout, when requested.
    /// Masked keys get exactly 0; a query with no key left to attend gets a row of zeros.
    public let weights: Tensor?

    public init(output: Tensor, weights: Tensor?) {
        self.output = output
        self.weights = weights
    }
}

extension Tensor {
    /// Scaled dot-product attention: `softmax(q·kᵀ · scale + masks) · v`.
    ///
    /// Shapes: `query` [B, H, Tq, D], `key` [B, H, Tk, D], `value` [B, H, Tk, Dv]; or the same
    /// without the head axis ([B, Tq, D], …). Everything is built from differentiable ops (matmul
    /// on a transposed view, `where`, softmax), so gradients reach `query`, `key`, `value` and a
    /// float `mask` without a rule of its own.
    ///
    /// Masks combine (a key is attended only where every mask allows it):
    /// - `keyPadding`: bool [B, Tk], true = a real key, false = padding.
    /// - `mask`: bool (true = may attend) or float32 (added to the scores; `-inf` masks), broadcastable
    ///   to [B, H, Tq, Tk] (or [B, Tq, Tk]).
    /// - `isCausal`: query i attends keys j ≤ i + (Tk − Tq), i.e. queries are aligned with the *last*
    ///   Tq keys, as when decoding with a KV cache holding earlier keys.
    /// - `window`: a sliding-window band; query i attends the `window` most recent keys up to its
    ///   aligned position i' = i + (Tk − Tq), j ∈ (i' − window, i']. The band ends at i', so a window
    ///   implies causal masking.
    ///
    /// A query whose keys are all masked (by any combination of masks, including `-inf` entries of a
    /// float mask) gets weights of 0 and an output of 0 rather than NaN, and no gradient flows
    /// through that row. This keeps padded queries from poisoning a batch; PyTorch instead
    /// returns NaN there.
    ///
    /// - Parameters:
    ///   - scale: multiplies q·kᵀ; defaults to 1/√D.
    ///   - dropout: probability of dropping an attention weight (the rest are scaled by
    ///     1/(1 − dropout)); the keep mask is drawn as `Tensor.bernoulli([B, H, Tq, Tk], p: 1 − dropout,
    ///     generator:)`, so `generator` is required when `dropout > 0`. Pass 0 at evaluation.
    ///   - returnWeights: whether to return the attention probabilities (computed in any case).
    ///
    /// ```swift
    /// // [B, H, T, D] self-attention with a causal mask and padded keys
    /// let r = Tensor.scaledDotProductAttention(query: q, key: k, value: v,
    ///                                          keyPadding: isToken, isCausal: true)
    /// let y = r.output   // [B, H, T, D]
    /// ```
    public static func scaledDotProductAttention(
        query: Tensor, key: Tensor, value: Tensor,
        keyPadding: Tensor? = nil, mask: Tensor? = nil,
        isCausal: Bool = false, window: Int? = nil,
        scale: Float? = nil,
        dropout: Float = 0, generator: Generator? = nil,
        returnWeights: Bool = false
    ) -> AttentionResult {
        let op = "scaledDotProductAttention"
        query.requireFloat32(op); key.requireFloat32(op); value.requireFloat32(op)
        let r = query.rank
        check(r == 3 || r == 4, op, "query must be [B, H, Tq, D] or [B, Tq, D], got \(fmt(query.shape))")
        check(key.rank == r && value.rank == r, op,
              "query \(fmt(query.shape)), key \(fmt(key.shape)) and value \(fmt(value.shape)) must have the same rank")
        let lead = Array(query.shape[..<(r - 2)])  // [B, H] or [B]
        let tq = query.shape[r - 2], d = query.shape[r - 1], tk = key.shape[r - 2]
        check(Array(key.shape[..<(r - 2)]) == lead && key.shape[r - 1] == d, op,
              "key \(fmt(key.shape)) does not match query \(fmt(query.shape)): expected \(fmt(lead + [tk, d]))")
        check(Array(value.shape[..<(r - 1)]) == lead + [tk], op,
              "value \(fmt(value.shape)) does not match key \(fmt(key.shape)): expected \(fmt(lead + [tk])) + [Dv]")
        check(dropout >= 0 && dropout < 1, op, "dropout must be in [0, 1), got \(dropout)")
        check(dropout == 0 || generator != nil, op, "dropout \(dropout) needs a generator")
        if let window { check(window >= 1, op, "window must be at least 1, got \(window)") }
        let scoreShape = lead + [tq, tk]  // [B, H, Tq, Tk]

        // Scaling q rather than the scores touches Tq·D instead of Tq·Tk elements.
        let s = scale ?? 1 / Float(d).squareRoot()
        var scores = (query * s).matmul(key.transposed())  // [B, H, Tq, Tk]

        var keep: Tensor? = nil  // bool, broadcastable to scoreShape; true = may attend
        func allow(_ m: Tensor) { keep = keep.map { $0.logicalAnd(m) } ?? m }
        if let keyPadding {
            let b = lead[0]
            check(keyPadding.dtype == .bool && keyPadding.shape == [b, tk], op,
                  "keyPadding must be a bool [B, Tk] = \(fmt([b, tk])) mask for query \(fmt(query.shape)) and key \(fmt(key.shape)), got \(keyPadding.dtype) \(fmt(keyPadding.shape))")
            allow(keyPadding.reshaped([b] + Array(repeating: 1, count: r - 2) + [tk]))  // [B, 1, 1, Tk]
        }
        if let mask {
            check(broadcasts(mask.shape, to: scoreShape), op,
                  "mask of shape \(fmt(mask.shape)) does not broadcast to the scores' shape \(fmt(scoreShape)) for query \(fmt(query.shape)) and key \(fmt(key.shape))")
            switch mask.dtype {
            case .bool:
                allow(mask)
            case .float32:
                scores = scores + mask
                // -inf entries mask like false ones, so that a row of them counts as fully masked
                allow(mask.detached().compared(.greater, -.infinity))
            default:
                check(false, op, "mask must be bool (true = attend) or float32 (added to the scores), got \(mask.dtype) \(fmt(mask.shape))")
            }
        }
        if isCausal || window != nil { allow(attentionBand(queries: tq, keys: tk, window: window)) }

        let weights: Tensor
        if let keep {
            let masked = Tensor.where(keep, scores, Tensor(-Float.infinity))  // [B, H, Tq, Tk]
            // Which queries have a key left: [B, H, Tq, 1] (or broadcastable to it).
            let keepF = keep.converted(to: .float32)
            let hasKey = keep.shape.last == 0 ? nil : (keep.rank == 0 ? keepF : keepF.max(axis: -1, keepDims: true))
            if let hasKey, hasKey.count > 0, hasKey.min().item() == 0 {
                // A fully masked row would be softmax(-inf, …) = NaN: give it finite scores, then
                // zero its weights through `where`, which also stops its gradient.
                let finite = Tensor.where(hasKey.compared(.greater, 0), masked, Tensor(0))
                weights = Tensor.where(keep, finite.softmax(axis: -1), Tensor(0))
            } else {
                weights = masked.softmax(axis: -1)
            }
        } else {
            weights = scores.softmax(axis: -1)
        }

        var attended = weights
        if dropout > 0, let generator {
            let kept = Tensor.bernoulli(weights.shape, p: 1 - dropout, generator: generator)
            attended = weights * (kept * (1 / (1 - dropout)))
        }
        let output = attended.matmul(value)  // [B, H, Tq, Dv]
        return AttentionResult(output: output, weights: returnWeights ? weights : nil)
    }

    /// The causal / sliding-window band as a bool [Tq, Tk] mask: query i sits at key position
    /// i' = i + (Tk − Tq) and attends keys j ≤ i' (and j > i' − window when a window is given).
    /// Positions are compared as float32, exact below 2²⁴.
    static func attentionBand(queries tq: Int, keys tk: Int, window: Int?) -> Tensor {
        check(tk < 1 << 24, "scaledDotProductAttention", "causal masking supports up to 2^24 keys, got \(tk)")
        let i = (Tensor.arange(0, Float(tq)) + Float(tk - tq)).reshaped([tq, 1])  // [Tq, 1]
        let j = Tensor.arange(0, Float(tk)).reshaped([1, tk])                     // [1, Tk]
        var band = j.compared(.lessEqual, i)                                       // [Tq, Tk]
        if let window { band = band.logicalAnd(j.compared(.greater, i - Float(window))) }
        return band
    }
}

/// Whether `shape` broadcasts to exactly `target` (NumPy rules, `target` unchanged).
func broadcasts(_ shape: [Int], to target: [Int]) -> Bool {
    guard shape.count <= target.count else { return false }
    let lead = target.count - shape.count
    return shape.indices.allSatisfy { shape[$0] == target[$0 + lead] || shape[$0] == 1 }
}
