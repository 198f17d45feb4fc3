import Foundation
import OmniTensor

/// Rotary position embedding (RoPE, Su et al. 2021) applied to queries and keys.
///
/// Dimension pairs (i, i + D/2) — the "rotate half" layout of GPT-NeoX and Hugging Face Llama —
/// or adjacent pairs (2i, 2i + 1) — GPT-J's interleaved layout — are rotated by the angle
/// `position · base^(-2i/D)`. It has no parameters; the angle tables are computed per call in
/// Double and rounded once.
///
/// ```swift
/// let rope = RotaryEmbedding(dimension: 64)
/// let q2 = rope(q, offset: cache.length)   // q: [B, H, T, 64]
/// ```
public struct RotaryEmbedding: Sendable {
    public enum Layout: String, Sendable, Codable { case halves, interleaved }

    public let dimension: Int
    public let base: Double
    public let layout: Layout

    public init(dimension: Int, base: Double = 10_000, layout: Layout = .halves) {
        precondition(dimension > 0 && dimension % 2 == 0, "RotaryEmbedding: dimension must be positive and even, got \(dimension)")
        self.dimension = dimension
        self.base = base
        self.layout = layout
    }

    /// cos and sin tables [T, D/2] for positions offset..<offset+T.
    func tables(count: Int, offset: Int) -> (cos: Tensor, sin: Tensor) {
        let half = dimension / 2
        var c = [Float](repeating: 0, count: count * half), s = c
        for t in 0..<count {
            for i in 0..<half {
                let angle = Double(offset + t) * pow(base, -2.0 * Double(i) / Double(dimension))
                c[t * half + i] = Float(Foundation.cos(angle))
                s[t * half + i] = Float(Foundation.sin(angle))
            }
        }
        return (Tensor(c, shape: [count, half]), Tensor(s, shape: [count, half]))
    }

    /// Rotates the last axis of `x` [..., T, D]; position of row t is `offset + t`.
    public func callAsFunction(_ x: Tensor, offset: Int = 0) -> Tensor {
        precondition(x.rank >= 2 && x.shape[x.rank - 1] == dimension,
                     "RotaryEmbedding: input \(x.shape) must end in [T, \(dimension)]")
        let t = x.shape[x.rank - 2], half = dimension / 2
        let (c, s) = tables(count: t, offset: offset)   // [T, D/2]
        switch layout {
        case .halves:
            let x1 = x.narrowed(axis: -1, start: 0, length: half), x2 = x.narrowed(axis: -1, start: half, length: half)
            return Tensor.concatenated([x1 * c - x2 * s, x2 * c + x1 * s], axis: -1)
        case .interleaved:
            let pairs = x.reshaped(Array(x.shape.dropLast()) + [half, 2])          // [..., T, D/2, 2]
            let x1 = pairs.narrowed(axis: -1, start: 0, length: 1).squeezed(axis: -1)
            let x2 = pairs.narrowed(axis: -1, start: 1, length: 1).squeezed(axis: -1)
            return Tensor.stacked([x1 * c - x2 * s, x2 * c + x1 * s], axis: -1).reshaped(x.shape)
        }
    }
}
