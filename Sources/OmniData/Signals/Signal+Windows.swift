import OmniTensor

extension Signal {
    /// The number of windows ``windows(size:hop:tail:)`` returns.
    ///
    /// With `.drop`: `1 + ⌊(S − size) / hop⌋` (0 when `S < size`). With padding: enough windows
    /// to cover every sample, `1 + ⌈max(S − size, 0) / hop⌉`.
    public func windowCount(size: Int, hop: Int, tail: WindowTail) -> Int {
        precondition(size > 0 && hop > 0, "Signal.windows: size and hop must be positive, got \(size), \(hop)")
        switch tail {
        case .drop: return sampleCount < size ? 0 : 1 + (sampleCount - size) / hop
        case .zeroPad, .edgePad: return 1 + (Swift.max(sampleCount - size, 0) + hop - 1) / hop
        }
    }

    /// Overlapping windows `[W, C, size]`: window `w` holds samples `w·hop ..< w·hop + size` of every
    /// channel. `hop < size` overlaps (50 % overlap: `hop = size / 2`); `hop > size` skips samples.
    /// With `hop ≥ size` and `.drop` no sample appears twice.
    ///
    /// ```swift
    /// let w = imu.windows(size: 100, hop: 50, tail: .zeroPad)    // [W, 6, 100]
    /// ```
    public func windows(size: Int, hop: Int, tail: WindowTail = .drop) -> Tensor {
        let count = windowCount(size: size, hop: hop, tail: tail)
        precondition(count <= Signal.maxValues / Swift.max(channelCount * size, 1),
                     "Signal.windows: \(count) windows of \(channelCount) × \(size) exceed \(Signal.maxValues) values")
        let c = channelCount, n = sampleCount
        var out = [Float](repeating: 0, count: count * c * size)
        samples.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for w in 0..<count {
                    let start = w * hop, available = Swift.max(0, Swift.min(size, n - start))
                    for ch in 0..<c {
                        let dst = (w * c + ch) * size, src = ch * n + start
                        for j in 0..<available { o[dst + j] = s[src + j] }
                        if tail == .edgePad && available < size {
                            let edge = s[ch * n + n - 1]
                            for j in available..<size { o[dst + j] = edge }
                        }
                    }
                }
            }
        }
        return Tensor(out, shape: [count, c, size])
    }
}
