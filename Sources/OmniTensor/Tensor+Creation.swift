import Foundation
import COmniKernels

extension Tensor {
    /// A tensor filled with `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.floatPointer.initialize(repeating: value, count: t.count)
        return t
    }

    /// Zeros (float32 unless `dtype` says otherwise).
    public static func zeros(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        check(shape.allSatisfy { $0 >= 0 }, "zeros", "negative size in shape \(fmt(shape))")
        let n = shape.reduce(1, *)
        return Tensor(storage: TensorStorage(count: n, dtype: dtype, zeroed: true), shape: shape,
                      strides: denseStrides(shape))
    }

    /// Ones (float32 unless `dtype` says otherwise).
    public static func ones(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        let t = full(shape, 1)
        return dtype == .float32 ? t : t.converted(to: dtype)
    }

    /// Zeros with the shape of `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape, dtype: other.dtype) }

    /// `[start, start + step, …)` up to (not including) `end`, as float32.
    public static func arange(_ start: Float, _ end: Float, step: Float = 1) -> Tensor {
        check(step != 0, "arange", "step must be nonzero")
        check(start.isFinite && end.isFinite && step.isFinite, "arange", "bounds and step must be finite, got \(start), \(end), step \(step)")
        let n = ((Double(end) - Double(start)) / Double(step)).rounded(.up)
        check(n < 0x1p48, "arange", "[\(start), \(end)) with step \(step) would have \(n) elements")
        let count = Swift.max(0, Int(n))
        return Tensor((0..<count).map { Float(Double(start) + Double($0) * Double(step)) })
    }

    /// `0, 1, …, end - 1` as int64.
    public static func arange(_ end: Int) -> Tensor { Tensor(Array(0..<Swift.max(end, 0))) }

    /// `count` evenly spaced values from `start` to `end` inclusive.
    public static func linspace(_ start: Float, _ end: Float, count: Int) -> Tensor {
        check(count >= 0, "linspace", "count must be non-negative, got \(count)")
        if count == 1 { return Tensor([start]) }
        let step = (Double(end) - Double(start)) / Double(Swift.max(count - 1, 1))
        return Tensor((0..<count).map { i in i == count - 1 ? end : Float(Double(start) + Double(i) * step) })
    }

    /// The n×m identity (m defaults to n).
    public static func eye(_ n: Int, _ m: Int? = nil) -> Tensor {
        let m = m ?? n
        let t = zeros([n, m])
        for i in 0..<Swift.min(n, m) { t.floatPointer[i * m + i] = 1 }
        return t
    }

    // MARK: Random (always from an explicit generator)

    /// Uniform values in [low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, generator: Generator) -> Tensor {
        check(low < high && low.isFinite && high.isFinite, "uniform", "needs finite low < high, got [\(low), \(high))")
        let t = Tensor(uninitializedShape: shape)
        let p = t.floatPointer
        let lo = Double(low), span = Double(high) - Double(low)
        // Rounding to float32 can carry a draw just below `high` up to it; keep the interval half-open.
        let top = high.nextDown
        generator.fillUniform(p, count: t.count, low: lo, span: span, top: top)
        return t
    }

    /// Normal values (Box–Muller, in Double).
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, generator: Generator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        let p = t.floatPointer
        let n = t.count
        generator.fill((n + 1) / 2) { u, i in
            let u1 = 1.0 - u(), u2 = u()
            let r = (-2.0 * Foundation.log(u1)).squareRoot()
            let a = 2.0 * Double.pi * u2
            p[2 * i] = Float(Double(mean) + Double(std) * r * Foundation.cos(a))
            if 2 * i + 1 < n { p[2 * i + 1] = Float(Double(mean) + Double(std) * r * Foundation.sin(a)) }
        }
        return t
    }

    /// 1 with probability `p`, else 0 (float32).
    public static func bernoulli(_ shape: [Int], p: Float, generator: Generator) -> Tensor {
        check(p >= 0 && p <= 1, "bernoulli", "probability must be in [0, 1], got \(p)")
        let t = Tensor(uninitializedShape: shape)
        let ptr = t.floatPointer
        let pd = Double(p)
        generator.fill(t.count) { u, i in ptr[i] = u() < pd ? 1 : 0 }
        return t
    }

    /// Uniform integers in [low, high) as int64.
    public static func randint(_ shape: [Int], low: Int, high: Int, generator: Generator) -> Tensor {
        check(high > low, "randint", "empty range [\(low), \(high))")
        let t = Tensor(uninitializedShape: shape, dtype: .int64)
        let p = t.rawPointer.assumingMemoryBound(to: Int64.self)
        // Two's-complement arithmetic: the span may exceed Int.max (e.g. [Int.min, Int.max)).
        let span = UInt64(bitPattern: Int64(high) &- Int64(low))
        generator.withRaw { raw in
            for i in 0..<t.count { p[i] = Int64(low) &+ Int64(bitPattern: generator.below(span, raw)) }
        }
        return t
    }

    /// A random permutation of `0..<n` as int64 (Fisher–Yates).
    public static func randperm(_ n: Int, generator: Generator) -> Tensor {
        check(n >= 0, "randperm", "n must be non-negative, got \(n)")
        var a = Array(0..<n)
        generator.withRaw { raw in
            if a.count > 1 {
                for i in stride(from: a.count - 1, to: 0, by: -1) {
                    let j = Int(generator.below(UInt64(i + 1), raw))
                    a.swapAt(i, j)
                }
            }
        }
        return Tensor(a)
    }
}

