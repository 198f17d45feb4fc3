// Creation functions against Float64 references, and the random generators: reproducibility,
// and statistics with bounds computed here (5σ for moments, Kolmogorov–Smirnov at α = 0.001).
import Foundation
import Testing
@testable import OmniTensor

/// xoshiro256** seeded through SplitMix64, written from the published algorithm, as a reference.
struct ReferenceXoshiro {
    var s: [UInt64]
    static func splitmix(_ x: inout UInt64) -> UInt64 {
        x = x &+ 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    init(seed: UInt64) {
        var x = seed
        s = (0..<4).map { _ in ReferenceXoshiro.splitmix(&x) }
    }
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
    mutating func next() -> UInt64 {
        let result = ReferenceXoshiro.rotl(s[1] &* 5, 7) &* 9
        let t = s[1] << 17
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]
        s[2] ^= t
        s[3] = ReferenceXoshiro.rotl(s[3], 45)
        return result
    }
}

/// Kolmogorov–Smirnov statistic of `samples` against `cdf`.
func ksStatistic(_ samples: [Double], cdf: (Double) -> Double) -> Double {
    let x = samples.sorted()
    let n = Double(x.count)
    var d = 0.0
    for (i, v) in x.enumerated() {
        let f = cdf(v)
        d = Swift.max(d, Swift.abs(Double(i + 1) / n - f), Swift.abs(f - Double(i) / n))
    }
    return d
}

/// Sample mean and (biased) variance.
func moments(_ x: [Double]) -> (mean: Double, variance: Double) {
    let m = x.reduce(0, +) / Double(x.count)
    return (m, x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count))
}

/// A state whose next output is `r` (inverting the output function: s1 = rotr(r·9⁻¹, 7)·5⁻¹).
func stateProducing(_ r: UInt64) -> [UInt64] {
    func inverse(_ a: UInt64) -> UInt64 { var x = a; for _ in 0..<6 { x = x &* (2 &- a &* x) }; return x }
    let y = r &* inverse(9)
    let s1 = ((y >> 7) | (y << 57)) &* inverse(5)
    return [0x1234_5678, s1, 0x9ABC_DEF0, 0x0F0F_0F0F]
}

@Suite struct CreationTests {
    // MARK: Deterministic creation

    @Test func zerosOnesFull() {
        for shape in [[2, 3], [], [0, 4], [1, 1, 5]] {
            let n = shape.reduce(1, *)
            expectClose(Tensor.zeros(shape), [Double](repeating: 0, count: n), shape: shape, atol: 0, rtol: 0, "zeros \(shape)")
            expectClose(Tensor.ones(shape), [Double](repeating: 1, count: n), shape: shape, atol: 0, rtol: 0, "ones \(shape)")
            expectClose(Tensor.full(shape, -2.75), [Double](repeating: -2.75, count: n), shape: shape, atol: 0, rtol: 0, "full \(shape)")
            #expect(Tensor.zeros(shape).isContiguous && Tensor.full(shape, 1).dtype == .float32)
        }
        for dt in DType.allCases {
            let z = Tensor.zeros([2, 2], dtype: dt), o = Tensor.ones([3], dtype: dt)
            #expect(z.dtype == dt && z.toArray() == [0, 0, 0, 0], "\(dt)")
            #expect(o.dtype == dt && o.toArray() == [1, 1, 1], "\(dt)")
        }
        let like = Tensor.zeros(like: Tensor([1, 2, 3], shape: [3, 1], dtype: .int32))
        #expect(like.shape == [3, 1] && like.dtype == .int32 && like.toIntArray() == [0, 0, 0])
        #expect(Tensor.full([2], .nan).toArray().allSatisfy { $0.isNaN })
    }

    @Test func arangeFloat() {
        let cases: [(Float, Float, Float)] = [(0, 5, 1), (0, 1, 0.1), (-2, 2, 0.5), (3, -1, -0.75), (1, 1, 1), (5, 0, 1),
                                              (0, 10, 3), (0.25, 0.26, 0.1), (-1e6, 1e6, 123_456.7)]
        for (start, end, step) in cases {
            // Reference: walk in Double until the end is reached.
            var ref: [Double] = []
            let (s, e, d) = (Double(start), Double(end), Double(step))
            while true {
                let v = s + Double(ref.count) * d
                if d > 0 ? v >= e : v <= e { break }
                ref.append(v)
            }
            expectClose(Tensor.arange(start, end, step: step), ref.map { Double(Float($0)) }, shape: [ref.count],
                        atol: 0, rtol: 0, "arange(\(start), \(end), step: \(step))")
        }
    }

    @Test func arangeInt() {
        for n in [0, 1, 7] {
            let t = Tensor.arange(n)
            #expect(t.dtype == .int64 && t.shape == [n] && t.toIntArray() == Array(0..<n))
        }
        #expect(Tensor.arange(-3).shape == [0])
    }

    @Test func linspace() {
        for (start, end, count) in [(Float(0), Float(1), 5), (-3, 7, 11), (2, -2, 4), (1.5, 1.5, 3), (0, 1, 1), (0, 1, 0), (-1, 1e-3, 7)] {
            let ref: [Double] = (0..<count).map { i in
                count == 1 ? Double(start) : Double(start) + Double(i) * (Double(end) - Double(start)) / Double(count - 1)
            }
            let t = Tensor.linspace(start, end, count: count)
            expectClose(t, ref, shape: [count], atol: 1e-6, rtol: 1e-6, "linspace(\(start), \(end), \(count))")
            if count >= 2 { #expect(t.toArray().first == start && t.toArray().last == end, "endpoints are exact") }
        }
    }

    @Test func eye() {
        for (n, m) in [(3, nil), (2, 4), (4, 2), (0, nil), (1, nil), (0, 3)] as [(Int, Int?)] {
            let cols = m ?? n
            let ref = (0..<(n * cols)).map { i -> Double in i / cols == i % cols ? 1 : 0 }
            expectClose(Tensor.eye(n, m), ref, shape: [n, cols], atol: 0, rtol: 0, "eye(\(n), \(String(describing: m)))")
        }
    }

    // MARK: Generator

    @Test func generatorMatchesTheReferenceAlgorithm() {
        // SplitMix64's published first output for seed 0.
        var x: UInt64 = 0
        #expect(ReferenceXoshiro.splitmix(&x) == 0xE220_A839_7B1D_CDAF)
        for seed: UInt64 in [0, 1, 42, .max] {
            let g = Generator(seed: seed)
            var r = ReferenceXoshiro(seed: seed)
            #expect(g.state == r.s)
            for i in 0..<1000 {
                let (a, b) = (g.next(), r.next())
                if a != b { Issue.record("seed \(seed): output \(i) is \(a), reference \(b)"); break }
            }
        }
    }

    @Test func generatorStateSaveRestore() {
        let g = Generator(seed: 7)
        _ = Tensor.normal([13], generator: g)
        let saved = g.state
        let a = Tensor.uniform([50], generator: g).toArray(), ai = Tensor.randint([20], low: 0, high: 1000, generator: g).toIntArray()
        let an = g.nextInt(below: 1_000_000), ad = g.nextDouble()
        g.state = saved
        let b = Tensor.uniform([50], generator: g).toArray(), bi = Tensor.randint([20], low: 0, high: 1000, generator: g).toIntArray()
        #expect(a == b && ai == bi && g.nextInt(below: 1_000_000) == an && g.nextDouble() == ad)
        // a second generator given the same state continues the same sequence
        let h = Generator(seed: 999)
        h.state = saved
        #expect(Tensor.uniform([50], generator: h).toArray() == a)
    }

    @Test func generatorScalarDraws() {
        let g = Generator(seed: 3)
        var counts = [Int](repeating: 0, count: 5)
        let n = 50_000
        for _ in 0..<n {
            let k = g.nextInt(below: 5)
            #expect((0..<5).contains(k))
            counts[k] += 1
            let d = g.nextDouble()
            #expect(d >= 0 && d < 1)
        }
        let sigma = (Double(n) * 0.2 * 0.8).squareRoot()
        for c in counts { #expect(Swift.abs(Double(c) - Double(n) / 5) < 5 * sigma, "counts \(counts)") }
    }

    // MARK: Random tensors

    /// Same seed → same numbers; different seeds → (almost) all numbers differ.
    @Test func randomReproducibility() {
        let makers: [(String, (Generator) -> Tensor)] = [
            ("uniform", { Tensor.uniform([257], low: -3, high: 5, generator: $0) }),
            ("normal", { Tensor.normal([257], mean: 1, std: 2, generator: $0) }),
            ("bernoulli", { Tensor.bernoulli([257], p: 0.5, generator: $0) }),
            ("randint", { Tensor.randint([257], low: -1000, high: 1000, generator: $0) }),
            ("randperm", { Tensor.randperm(257, generator: $0) }),
        ]
        for (name, make) in makers {
            let a = make(Generator(seed: 11)).toArray(), b = make(Generator(seed: 11)).toArray()
            let c = make(Generator(seed: 12)).toArray()
            #expect(a == b, "\(name): same seed gave different values")
            let same = zip(a, c).filter { $0 == $1 }.count
            // Bernoulli(0.5) agrees by chance on half the draws; the rest almost never.
            let bound = name == "bernoulli" ? 257 / 2 + 5 * 8 : 20
            #expect(same < bound, "\(name): seeds 11 and 12 agree on \(same) of 257 values")
        }
    }

    @Test func uniformStatistics() {
        let (low, high) = (-2.0, 3.0)
        let n = 100_000
        let x = values(Tensor.uniform([n], low: Float(low), high: Float(high), generator: Generator(seed: 21)))
        #expect(x.allSatisfy { $0 >= low && $0 < high })
        let (m, v) = moments(x)
        let variance = (high - low) * (high - low) / 12, mu4 = Foundation.pow(high - low, 4) / 80
        #expect(Swift.abs(m - (low + high) / 2) < 5 * (variance / Double(n)).squareRoot(), "mean \(m)")
        #expect(Swift.abs(v - variance) < 5 * ((mu4 - variance * variance) / Double(n)).squareRoot(), "variance \(v)")
        let d = ksStatistic(x) { Swift.min(Swift.max(($0 - low) / (high - low), 0), 1) }
        #expect(d < 1.95 / Double(n).squareRoot(), "KS statistic \(d)")
    }

    /// The largest uniform draw (1 − 2⁻⁵³) must still give a value below `high` after rounding to
    /// float32 (the interval is half-open).
    @Test func uniformStaysBelowHigh() {
        for (low, high) in [(Float(0), Float(1)), (-2, 2), (1, 1.5), (-1e-3, 1e-3)] {
            let g = Generator(seed: 0)
            g.state = stateProducing(.max)
            let v = Tensor.uniform([1], low: low, high: high, generator: g).item()
            #expect(v >= low && v < high, "uniform(\(low), \(high)) gave \(v)")
        }
        let g = Generator(seed: 0)
        g.state = stateProducing(0)
        #expect(Tensor.uniform([1], low: -1, high: 1, generator: g).item() == -1)
        g.state = stateProducing(0)
        #expect(Tensor.normal([1], generator: g).item().isFinite)
    }

    @Test func normalStatistics() {
        let n = 100_001  // odd: the last value comes from half a Box–Muller pair
        for (mean, std) in [(0.0, 1.0), (3.0, 0.5)] {
            let x = values(Tensor.normal([n], mean: Float(mean), std: Float(std), generator: Generator(seed: 33)))
            #expect(x.allSatisfy { $0.isFinite })
            let (m, v) = moments(x)
            let s2 = std * std
            #expect(Swift.abs(m - mean) < 5 * (s2 / Double(n)).squareRoot(), "mean \(m)")
            #expect(Swift.abs(v - s2) < 5 * (2 * s2 * s2 / Double(n)).squareRoot(), "variance \(v)")
            let d = ksStatistic(x) { 0.5 * (1 + Foundation.erf(($0 - mean) / (std * 2.0.squareRoot()))) }
            #expect(d < 1.95 / Double(n).squareRoot(), "KS statistic \(d)")
            // the two halves of each Box–Muller pair are uncorrelated
            var c = 0.0
            for i in stride(from: 0, to: n - 1, by: 2) { c += (x[i] - mean) * (x[i + 1] - mean) }
            c /= Double(n / 2) * s2
            #expect(Swift.abs(c) < 5 / Double(n / 2).squareRoot(), "pair correlation \(c)")
        }
    }

    @Test func bernoulliStatistics() {
        let n = 100_000
        for p in [0.1, 0.5, 0.9] {
            let x = values(Tensor.bernoulli([n], p: Float(p), generator: Generator(seed: 44)))
            #expect(x.allSatisfy { $0 == 0 || $0 == 1 })
            let m = x.reduce(0, +) / Double(n)
            #expect(Swift.abs(m - p) < 5 * (p * (1 - p) / Double(n)).squareRoot(), "p \(p): mean \(m)")
        }
        #expect(Tensor.bernoulli([100], p: 0, generator: Generator(seed: 1)).toArray().allSatisfy { $0 == 0 })
        #expect(Tensor.bernoulli([100], p: 1, generator: Generator(seed: 1)).toArray().allSatisfy { $0 == 1 })
    }

    @Test func randintStatistics() {
        let (low, high, n) = (-3, 4, 70_000)
        let t = Tensor.randint([n], low: low, high: high, generator: Generator(seed: 55))
        #expect(t.dtype == .int64 && t.shape == [n])
        var counts = [Int](repeating: 0, count: high - low)
        for v in t.toIntArray() {
            #expect(v >= low && v < high)
            if v >= low && v < high { counts[v - low] += 1 }
        }
        let p = 1.0 / Double(high - low)
        let sigma = (Double(n) * p * (1 - p)).squareRoot()
        for c in counts { #expect(Swift.abs(Double(c) - Double(n) * p) < 5 * sigma, "counts \(counts)") }
        // a span wider than Int.max
        let wide = Tensor.randint([64], low: .min, high: .max, generator: Generator(seed: 5)).toIntArray()
        #expect(wide.allSatisfy { $0 < .max } && Set(wide).count == 64)
        #expect(wide.filter { $0 < 0 }.count > 10 && wide.filter { $0 > 0 }.count > 10)
        #expect(Tensor.randint([3], low: 9, high: 10, generator: Generator(seed: 5)).toIntArray() == [9, 9, 9])
    }

    @Test func randpermIsAUniformPermutation() {
        for n in [0, 1, 2, 10, 1000] {
            let p = Tensor.randperm(n, generator: Generator(seed: UInt64(n)))
            #expect(p.dtype == .int64 && p.shape == [n])
            #expect(p.toIntArray().sorted() == Array(0..<n), "randperm(\(n)) is not a permutation")
        }
        // all 6 orders of 3 elements equally likely
        let g = Generator(seed: 66)
        var counts: [[Int]: Int] = [:]
        let draws = 6000
        for _ in 0..<draws { counts[Tensor.randperm(3, generator: g).toIntArray(), default: 0] += 1 }
        #expect(counts.count == 6)
        let sigma = (Double(draws) / 6 * 5 / 6).squareRoot()
        for (perm, c) in counts { #expect(Swift.abs(Double(c) - Double(draws) / 6) < 5 * sigma, "\(perm): \(c)") }
    }

    // MARK: Misuse

    @Test func arangeZeroStepStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.arange(0, 1, step: 0)
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("arange: step must be nonzero"), "stderr was: \(e)")
    }

    @Test func arangeNonFiniteStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.arange(0, .infinity)
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("arange:") && e.contains("inf"), "stderr was: \(e)")
    }

    @Test func randintEmptyRangeStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.randint([2], low: 3, high: 3, generator: Generator(seed: 1))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("randint: empty range [3, 3)"), "stderr was: \(e)")
    }

    @Test func bernoulliBadProbabilityStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.bernoulli([2], p: 1.5, generator: Generator(seed: 1))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("bernoulli: probability must be in [0, 1], got 1.5"), "stderr was: \(e)")
    }

    @Test func uniformReversedBoundsStop() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.uniform([2], low: 1, high: 0, generator: Generator(seed: 1))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("uniform:") && e.contains("1.0") && e.contains("0.0"), "stderr was: \(e)")
    }

    @Test func zeroGeneratorStateStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Generator(seed: 1).state = [0, 0, 0, 0]
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("Generator.state: the all-zero state"), "stderr was: \(e)")
    }

    @Test func negativeShapeStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.full([2, -1], 0)
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("[2, -1]"), "stderr was: \(e)")
    }
}

@Suite struct UniformFillTests {
    /// The C bulk fill draws exactly the values `next()` would give one by one.
    @Test func bulkFillMatchesScalarDraws() {
        for (low, high) in [(Float(0), Float(1)), (-3, 5), (-0.02, 0.02)] {
            let g = Generator(seed: 77), h = Generator(seed: 77)
            let t = Tensor.uniform([1001], low: low, high: high, generator: g).toArray()
            let span = Double(high) - Double(low)
            let expected = (0..<1001).map { _ in Swift.min(Float(Double(low) + span * h.nextDouble()), high.nextDown) }
            #expect(t == expected)
            #expect(g.next() == h.next(), "the state must advance by exactly the values drawn")
        }
    }
}
