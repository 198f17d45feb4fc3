import COmniKernels
import Foundation

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same numbers on every run and machine. A generator is a reference type
/// with internal locking, so it can be shared, but for reproducibility draw from it in a fixed
/// order.
///
/// ```swift
/// let g = Generator(seed: 42)
/// let w = Tensor.normal([256, 256], std: 0.02, generator: g)
/// ```
public final class Generator: @unchecked Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    private let lock = NSLock()

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// The full generator state (for checkpoints).
    public var state: [UInt64] {
        get { lock.lock(); defer { lock.unlock() }; return [s.0, s.1, s.2, s.3] }
        set {
            check(newValue.count == 4, "Generator.state", "needs 4 words, got \(newValue.count)")
            // xoshiro's all-zero state is a fixed point: it would return 0 forever.
            check(newValue.contains { $0 != 0 }, "Generator.state", "the all-zero state is not a valid xoshiro256** state")
            lock.lock(); s = (newValue[0], newValue[1], newValue[2], newValue[3]); lock.unlock()
        }
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    private func nextUnlocked() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    /// The next 64 random bits.
    public func next() -> UInt64 { lock.lock(); defer { lock.unlock() }; return nextUnlocked() }

    /// Fills `count` float32 values `min(Float(low + span·u), top)` in C: the same values as
    /// drawing them one by one through ``next()``.
    func fillUniform(_ out: UnsafeMutablePointer<Float>, count: Int, low: Double, span: Double, top: Float) {
        lock.lock(); defer { lock.unlock() }
        var words = [s.0, s.1, s.2, s.3]
        words.withUnsafeMutableBufferPointer { omni_xoshiro_uniform_f32($0.baseAddress!, out, Int64(count), low, span, top) }
        s = (words[0], words[1], words[2], words[3])
    }

    /// Fills `count` values by calling `body` with a uniform [0, 1) Double source, under one lock.
    func fill(_ count: Int, _ body: (() -> Double, Int) -> Void) {
        lock.lock(); defer { lock.unlock() }
        let u = { Double(self.nextUnlocked() >> 11) * 0x1.0p-53 }
        for i in 0..<count { body(u, i) }
    }

    /// A uniform integer in `0..<bound` without modulo bias.
    func below(_ bound: UInt64, _ raw: () -> UInt64) -> UInt64 {
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let r = raw()
            if r < limit { return r % bound }
        }
    }

    /// A uniform integer in `0..<bound`.
    public func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "Generator.nextInt: bound must be positive, got \(bound)")
        lock.lock(); defer { lock.unlock() }
        return Int(below(UInt64(bound), nextUnlocked))
    }

    /// A uniform Double in [0, 1).
    public func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    func withRaw<R>(_ body: (() -> UInt64) -> R) -> R {
        lock.lock(); defer { lock.unlock() }
        return body { self.nextUnlocked() }
    }
}
