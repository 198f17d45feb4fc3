import OmniTensor

extension SentenceEmbedder {
    /// How token vectors become one sentence vector (sentence-transformers' `Pooling` modes).
    /// Several modes are concatenated in the order given.
    public enum PoolingMode: String, Sendable, Codable, CaseIterable {
        /// The first token (`[CLS]`).
        case cls
        /// The element-wise maximum over real tokens.
        case max
        /// The mean over real tokens.
        case mean
        /// The sum over real tokens divided by √(token count).
        case meanSqrtLength = "mean_sqrt_len_tokens"
        /// The mean weighted by position (1, 2, …, n).
        case weightedMean = "weightedmean"
        /// The last real token.
        case lastToken = "lasttoken"

        /// The legacy `1_Pooling/config.json` flag that selects this mode, in sentence-transformers'
        /// concatenation order.
        static let legacyFlags: [(String, PoolingMode)] = [
            ("pooling_mode_cls_token", .cls), ("pooling_mode_max_tokens", .max),
            ("pooling_mode_mean_tokens", .mean), ("pooling_mode_mean_sqrt_len_tokens", .meanSqrtLength),
            ("pooling_mode_weightedmean_tokens", .weightedMean), ("pooling_mode_lasttoken", .lastToken),
        ]
    }

    /// Pools right-padded hidden states.
    ///
    /// - Parameters:
    ///   - hidden: token vectors [B, T, D].
    ///   - mask: bool [B, T], true for real tokens (a prefix of each row); nil = no padding.
    ///   - lengths: the number of real tokens of each row.
    /// - Returns: [B, D × modes.count].
    static func pool(_ hidden: Tensor, mask: Tensor?, lengths: [Int], modes: [PoolingMode]) -> Tensor {
        let (b, t) = (hidden.shape[0], hidden.shape[1])
        let weights = mask.map { $0.converted(to: .float32).unsqueezed(axis: -1) }     // [B, T, 1]
        let counts = Tensor(lengths.map { Float(Swift.max($0, 1)) }, shape: [b, 1])     // [B, 1]
        let needsSum = modes.contains(.mean) || modes.contains(.meanSqrtLength)
        let sum = needsSum ? (weights.map { hidden * $0 } ?? hidden).sum(axis: 1) : counts   // [B, D]
        let parts = modes.map { mode -> Tensor in
            switch mode {
            case .cls:
                return hidden.sliced(axis: 1, start: 0, end: 1).squeezed(axis: 1)
            case .max:
                let masked = mask.map { Tensor.where($0.unsqueezed(axis: -1), hidden, Tensor(-Float.infinity)) } ?? hidden
                return masked.max(axis: 1)
            case .mean:
                return sum / counts
            case .meanSqrtLength:
                return sum / counts.sqrt()
            case .weightedMean:
                let positions = Tensor.arange(1, Float(t) + 1).reshaped([1, t, 1])      // [1, T, 1]
                let w = weights.map { $0 * positions } ?? positions                       // [B or 1, T, 1]
                let total = Tensor(lengths.map { Float($0 * ($0 + 1) / 2) }, shape: [b, 1]).clamped(min: 1e-9)
                return (hidden * w).sum(axis: 1) / total
            case .lastToken:
                let index = Tensor(lengths.map { Swift.max($0 - 1, 0) }, shape: [b, 1, 1])
                    .expanded(to: [b, 1, hidden.shape[2]])                                 // [B, 1, D]
                return hidden.gathering(axis: 1, index: index).squeezed(axis: 1)
            }
        }
        return parts.count == 1 ? parts[0] : Tensor.concatenated(parts, axis: -1)
    }

    /// Each row divided by its Euclidean norm (at least 1e-12, as `torch.nn.functional.normalize`).
    static func l2Normalized(_ x: Tensor) -> Tensor {
        x / x.square().sum(axis: -1, keepDims: true).sqrt().clamped(min: 1e-12)
    }
}
