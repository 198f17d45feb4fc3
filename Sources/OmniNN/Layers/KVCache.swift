import OmniTensor

/// Keys and values of earlier positions, for incremental decoding.
///
/// Self-attention appends each step's keys and values; cross-attention fills the cache once from
/// the context and reuses it (`isStatic`). A cache belongs to one attention layer and one batch.
public final class KVCache: @unchecked Sendable {
    /// [B, H, T, Dh], or nil before the first step.
    public private(set) var keys: Tensor?
    public private(set) var values: Tensor?
    /// Keys were computed from a fixed context and must not grow.
    public private(set) var isStatic = false

    public init() {}

    /// Number of cached positions.
    public var length: Int { keys?.shape[2] ?? 0 }

    /// Appends new keys/values [B, H, t, Dh] and returns everything cached so far.
    func append(keys k: Tensor, values v: Tensor) -> (Tensor, Tensor) {
        // A cross-attention cache holds a fixed context; growing it would silently mix the two.
        precondition(!isStatic, "KVCache: this cache holds a cross-attention context and cannot take self-attention keys \(k.shape); use one cache per attention layer")
        if let keys, let values {
            precondition(k.rank == 4 && k.shape[0] == keys.shape[0] && k.shape[1] == keys.shape[1] && k.shape[3] == keys.shape[3],
                         "KVCache: new keys \(k.shape) do not continue the cached keys \(keys.shape) ([B, H, T, Dh]); reset() the cache for a new batch")
            self.keys = Tensor.concatenated([keys, k], axis: 2)
            self.values = Tensor.concatenated([values, v], axis: 2)
        } else {
            self.keys = k
            self.values = v
        }
        return (self.keys!, self.values!)
    }

    func store(keys k: Tensor, values v: Tensor) {
        keys = k
        values = v
        isStatic = true
    }

    /// Keeps the batch rows `indices` (integer [B']) of the cached keys and values, in that order,
    /// repeating or dropping rows: beam search reorders its hypotheses this way, and expands one
    /// prompt's cache to several beams.
    public func selectBatch(_ indices: Tensor) {
        keys = keys?.indexSelect(axis: 0, indices: indices)
        values = values?.indexSelect(axis: 0, indices: indices)
    }

    /// Forgets everything (a new sequence).
    public func reset() { keys = nil; values = nil; isStatic = false }
}
