// Bookkeeping shared by the sequence encoders (text, audio, signal) for padded batches: how a
// length travels through a convolution, masks from lengths, and zeroing the padded tail so that a
// following convolution sees the zeros it would see at the end of the unpadded sample.
import OmniNN
import OmniTensor

enum SequenceLengths {
    /// Output length of a 1-D convolution (or one axis of a 2-D one) over `length` real positions:
    /// `⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1`, and 0 when no window fits or the input is empty.
    static func convolutionOutput(_ length: Int, kernel: Int, stride: Int, padding: Int = 0, dilation: Int = 1) -> Int {
        guard length > 0 else { return 0 }
        let span = length + 2 * padding - dilation * (kernel - 1) - 1
        return span < 0 ? 0 : span / stride + 1
    }

    /// bool [B, count]: true at positions `< lengths[b]`.
    static func mask(_ lengths: [Int], count: Int) -> Tensor {
        var values = [Bool](repeating: false, count: lengths.count * count)
        for (b, n) in lengths.enumerated() {
            for t in 0..<Swift.min(n, count) { values[b * count + t] = true }
        }
        return Tensor(values, shape: [lengths.count, count])
    }

    /// `x` with every position at or past `lengths[b]` along `axis` set to 0 (axis 0 is the batch).
    static func zeroingPadding(_ x: Tensor, lengths: [Int], axis: Int) -> Tensor {
        let a = axis < 0 ? axis + x.rank : axis
        precondition(a > 0 && a < x.rank && lengths.count == x.shape[0],
                     "SequenceLengths.zeroingPadding: \(lengths.count) lengths for input \(x.shape) along axis \(axis)")
        let n = x.shape[a]
        if lengths.allSatisfy({ $0 >= n }) { return x }
        var shape = [Int](repeating: 1, count: x.rank)
        shape[0] = x.shape[0]
        shape[a] = n
        return Tensor.where(mask(lengths, count: n).reshaped(shape), x, Tensor(0))
    }

    /// Each row of `x` [B, ..., S] standardised to zero mean and unit variance over its first
    /// `lengths[b]` positions along the last axis (statistics over all leading non-batch axes
    /// taken separately per row), with the padded tail left at 0.
    static func standardized(_ x: Tensor, lengths: [Int], eps: Float = 1e-7) -> Tensor {
        let s = x.shape[x.rank - 1]
        var shape = [Int](repeating: 1, count: x.rank)
        shape[0] = x.shape[0]
        shape[x.rank - 1] = s
        let keep = mask(lengths, count: s).reshaped(shape)                           // [B, 1.., S]
        let count = Tensor(lengths.map { Float(Swift.max($0, 1)) },
                           shape: [x.shape[0]] + [Int](repeating: 1, count: x.rank - 1))   // [B, 1.., 1]
        let real = Tensor.where(keep, x, Tensor(0))
        let mean = real.sum(axis: -1, keepDims: true) / count
        let centred = Tensor.where(keep, x - mean, Tensor(0))
        let variance = centred.square().sum(axis: -1, keepDims: true) / count
        return centred / (variance + eps).sqrt()
    }

    /// Drops the key projection's bias: it adds the same amount to every score of a query, which the
    /// softmax cancels, so it would never receive a gradient (Whisper's attention has none either).
    static func removeKeyBias(_ attention: MultiHeadAttention) {
        attention.keyProjection.bias = nil
    }
}
