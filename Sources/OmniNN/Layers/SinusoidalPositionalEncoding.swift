import Foundation
import OmniTensor

/// The fixed sinusoidal position table of "Attention Is All You Need":
/// `PE[p, 2i] = sin(p / 10000^(2i/D))`, `PE[p, 2i+1] = cos(p / 10000^(2i/D))`.
public struct SinusoidalPositionalEncoding: Sendable {
    public let dimension: Int
    public let base: Double

    public init(dimension: Int, base: Double = 10_000) {
        precondition(dimension > 0 && dimension % 2 == 0, "SinusoidalPositionalEncoding: dimension must be positive and even, got \(dimension)")
        self.dimension = dimension
        self.base = base
    }

    /// The table for positions offset..<offset+count: [count, D].
    public func table(count: Int, offset: Int = 0) -> Tensor {
        var v = [Float](repeating: 0, count: count * dimension)
        for p in 0..<count {
            for i in 0..<(dimension / 2) {
                let angle = Double(p + offset) / pow(base, 2.0 * Double(i) / Double(dimension))
                v[p * dimension + 2 * i] = Float(sin(angle))
                v[p * dimension + 2 * i + 1] = Float(cos(angle))
            }
        }
        return Tensor(v, shape: [count, dimension])
    }

    /// Adds the table to `x` [..., T, D].
    public func callAsFunction(_ x: Tensor, offset: Int = 0) -> Tensor {
        precondition(x.rank >= 2 && x.shape[x.rank - 1] == dimension, "SinusoidalPositionalEncoding: input \(x.shape) must end in [T, \(dimension)]")
        return x + table(count: x.shape[x.rank - 2], offset: offset)
    }
}
