// Elementwise ops against Float64 references: every unary op over wide ranges and special values,
// every binary op with NumPy broadcasting and strided operands, comparisons, `where`, and the
// gradient rules (including gradients summed over broadcast axes).
import Foundation
import Testing
@testable import OmniTensor

/// Inputs over the ranges where float32 approximations usually break: exp overflow (> 88.72) and
/// underflow into the subnormals (< -87.3), tails of erf/tanh/sigmoid, tiny arguments, zero.
let wideInputs: [Float] = [
    -120, -104, -103.5, -95, -90, -88.5, -87, -40, -20, -14, -13, -12, -10, -9, -7.5, -6, -5, -4, -3.5, -3, -2,
    -1.5, -1, -0.75, -0.5, -0.3, -0.1, -0.05, -0.01, -1e-3, -1e-5, -1e-8, 0, 1e-8, 1e-5, 1e-3, 0.01, 0.05, 0.1,
    0.3, 0.5, 0.75, 1, 1.5, 2, 3, 3.5, 4, 5, 6, 7.5, 9, 10, 12, 13, 14, 20, 40, 87, 88.5, 88.72, 88.73, 90, 95, 120,
]
let specialInputs: [Float] = [.infinity, -.infinity, .nan]

/// Every unary op with its Float64 reference.
enum UnaryCase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case neg, abs, sign, exp, log, log1p, expm1, sqrt, rsqrt, sin, cos, tanh, sigmoid, relu
    case leakyRelu, leakyReluDefault, geluErf, geluTanh, silu, softplus, softplusBeta, softplusSmallBeta
    case clamped, clampedBelow, clampedAbove, square, reciprocal, erf
    case powTwo, powThree, powHalf, powMinusOneAndAHalf, powZero

    var testDescription: String { rawValue }

    var apply: (Tensor) -> Tensor {
        switch self {
        case .neg: return { -$0 }
        case .abs: return { $0.abs() }
        case .sign: return { $0.sign() }
        case .exp: return { $0.exp() }
        case .log: return { $0.log() }
        case .log1p: return { $0.log1p() }
        case .expm1: return { $0.expm1() }
        case .sqrt: return { $0.sqrt() }
        case .rsqrt: return { $0.rsqrt() }
        case .sin: return { $0.sin() }
        case .cos: return { $0.cos() }
        case .tanh: return { $0.tanh() }
        case .sigmoid: return { $0.sigmoid() }
        case .relu: return { $0.relu() }
        case .leakyRelu: return { $0.leakyRelu(slope: 0.2) }
        case .leakyReluDefault: return { $0.leakyRelu() }
        case .geluErf: return { $0.gelu() }
        case .geluTanh: return { $0.gelu(approximate: true) }
        case .silu: return { $0.silu() }
        case .softplus: return { $0.softplus() }
        case .softplusBeta: return { $0.softplus(beta: 2, threshold: 5) }
        case .softplusSmallBeta: return { $0.softplus(beta: 0.5, threshold: 3) }
        case .clamped: return { $0.clamped(min: -1.5, max: 0.75) }
        case .clampedBelow: return { $0.clamped(min: -0.5) }
        case .clampedAbove: return { $0.clamped(max: 2) }
        case .square: return { $0.square() }
        case .reciprocal: return { $0.reciprocal() }
        case .erf: return { $0.erf() }
        case .powTwo: return { $0.pow(2) }
        case .powThree: return { $0.pow(3) }
        case .powHalf: return { $0.pow(0.5) }
        case .powMinusOneAndAHalf: return { $0.pow(-1.5) }
        case .powZero: return { $0.pow(0) }
        }
    }

    /// The exact function in Double (IEEE semantics for infinities and NaN).
    var reference: (Double) -> Double {
        func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
        func softplus(_ x: Double, _ beta: Double, _ threshold: Double) -> Double {
            beta * x > threshold ? x : Foundation.log1p(Foundation.exp(beta * x)) / beta
        }
        func clamp(_ x: Double, _ lo: Double, _ hi: Double) -> Double { x.isNaN ? x : (x < lo ? lo : (x > hi ? hi : x)) }
        switch self {
        case .neg: return { -$0 }
        case .abs: return { Swift.abs($0) }
        case .sign: return { $0 > 0 ? 1 : ($0 < 0 ? -1 : ($0.isNaN ? $0 : 0)) }
        case .exp: return { Foundation.exp($0) }
        case .log: return { Foundation.log($0) }
        case .log1p: return { Foundation.log1p($0) }
        case .expm1: return { Foundation.expm1($0) }
        case .sqrt: return { $0.squareRoot() }
        case .rsqrt: return { 1 / $0.squareRoot() }
        case .sin: return { Foundation.sin($0) }
        case .cos: return { Foundation.cos($0) }
        case .tanh: return { Foundation.tanh($0) }
        case .sigmoid: return { sigmoid($0) }
        case .relu: return { $0.isNaN ? $0 : Swift.max($0, 0) }   // NaN propagates, as in PyTorch
        case .leakyRelu: return { $0 > 0 ? $0 : Double(Float(0.2)) * $0 }
        case .leakyReluDefault: return { $0 > 0 ? $0 : Double(Float(0.01)) * $0 }
        // 0.5·x·(1 + erf(x/√2)), written with erfc so that the reference itself does not cancel
        // for negative x (1 + erf(-7/√2) is 1e-12 and Double's 1 + erf keeps only 4 digits of it).
        case .geluErf: return { 0.5 * $0 * Foundation.erfc(-$0 / 2.0.squareRoot()) }
        // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u), the form without cancellation.
        case .geluTanh: return { x in x * sigmoid(2 * (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)) }
        case .silu: return { $0 * sigmoid($0) }
        case .softplus: return { softplus($0, 1, 20) }
        case .softplusBeta: return { softplus($0, 2, 5) }
        case .softplusSmallBeta: return { softplus($0, 0.5, 3) }
        case .clamped: return { clamp($0, -1.5, 0.75) }
        case .clampedBelow: return { clamp($0, -0.5, .infinity) }
        case .clampedAbove: return { clamp($0, -.infinity, 2) }
        case .square: return { $0 * $0 }
        case .reciprocal: return { 1 / $0 }
        case .erf: return { Foundation.erf($0) }
        case .powTwo: return { Foundation.pow($0, 2) }
        case .powThree: return { Foundation.pow($0, 3) }
        case .powHalf: return { Foundation.pow($0, 0.5) }
        case .powMinusOneAndAHalf: return { Foundation.pow($0, -1.5) }
        case .powZero: return { Foundation.pow($0, 0) }
        }
    }

    /// Relative tolerance (against the float32-rounded reference): exact for correctly rounded ops,
    /// a few ulps for two roundings, 2e-6 for the libm and polynomial approximations. GELU gets 1e-5:
    /// its tail is exp(-x²/2) or exp(2u) of an argument rounded to float32, and exp multiplies that
    /// rounding (6e-8 relative) by the argument's size (up to ~80 before the result underflows).
    var rtol: Double {
        switch self {
        case .neg, .abs, .sign, .relu, .clamped, .clampedBelow, .clampedAbove, .square, .sqrt, .powTwo, .reciprocal:
            return 0
        case .rsqrt, .leakyRelu, .leakyReluDefault: return 2.5e-7
        case .geluErf, .geluTanh: return 1e-5
        default: return 2e-6
        }
    }

    /// Random inputs are drawn from here (the fixed wide inputs cover the rest of the line).
    var randomRange: (low: Float, high: Float) {
        switch self {
        case .log, .sqrt, .rsqrt, .powHalf, .powMinusOneAndAHalf: return (0, 30)
        case .log1p: return (-1, 30)
        default: return (-30, 30)
        }
    }

    /// Gradient rule, checked on inputs where the op is smooth (away from kinks and clamp bounds).
    var gradientRange: (low: Float, high: Float) {
        switch self {
        case .log, .sqrt, .rsqrt, .powHalf, .powMinusOneAndAHalf, .reciprocal: return (0.3, 3)
        case .log1p: return (-0.7, 3)
        case .exp, .expm1: return (-3, 3)
        default: return (-4, 4)
        }
    }
}

/// A Float64 reference rounded to float32: the float32 op must overflow to ±inf and underflow into
/// the subnormals exactly where float32 does.
func float32Reference(_ xs: [Double], _ f: (Double) -> Double) -> [Double] { xs.map { Double(Float(f($0))) } }

/// Absolute floor for results in the subnormal range, where float32 has only absolute precision.
let subnormalAtol = 1e-43

@Suite struct ElementwiseTests {
    // MARK: Unary

    @Test(arguments: UnaryCase.allCases)
    func unaryMatchesFloat64OnWideInputs(_ c: UnaryCase) {
        let x = Tensor(wideInputs + specialInputs)
        let y = c.apply(x)
        #expect(y.dtype == .float32)
        expectClose(y, float32Reference(values(x), c.reference), shape: x.shape, atol: subnormalAtol, rtol: c.rtol,
                    "\(c.rawValue) on wide inputs")
    }

    @Test(arguments: UnaryCase.allCases)
    func unaryMatchesFloat64OnRandomAndStridedInputs(_ c: UnaryCase) {
        for seed in testSeeds {
            let (lo, hi) = c.randomRange
            let x = randomTensor([4, 5], seed: seed, low: lo, high: hi)
            let ref = float32Reference(values(x), c.reference)
            expectClose(c.apply(x), ref, shape: [4, 5], atol: subnormalAtol, rtol: c.rtol, "\(c.rawValue) seed \(seed)")
            // the same logical values through strided, negatively strided and sliced views
            expectClose(c.apply(nonContiguous(x)), ref, shape: [4, 5], atol: subnormalAtol, rtol: c.rtol,
                        "\(c.rawValue) non-contiguous seed \(seed)")
            let flipped = x.flipped(axes: [0, 1])
            expectClose(c.apply(flipped), float32Reference(values(flipped), c.reference), shape: [4, 5],
                        atol: subnormalAtol, rtol: c.rtol, "\(c.rawValue) flipped seed \(seed)")
            let sliced = x.sliced(axis: 1, start: 1, step: 2)
            expectClose(c.apply(sliced), float32Reference(values(sliced), c.reference), shape: [4, 2],
                        atol: subnormalAtol, rtol: c.rtol, "\(c.rawValue) sliced seed \(seed)")
            // a rank-0 tensor and a broadcast (stride-0) view
            let scalar = x.sliced(axis: 0, start: 2, end: 3).sliced(axis: 1, start: 3, end: 4).reshaped([])
            expectClose(c.apply(scalar), float32Reference(values(scalar), c.reference), shape: [],
                        atol: subnormalAtol, rtol: c.rtol, "\(c.rawValue) rank 0 seed \(seed)")
            let row = x.sliced(axis: 0, start: 1, end: 2).expanded(to: [3, 5])
            expectClose(c.apply(row), float32Reference(values(row), c.reference), shape: [3, 5],
                        atol: subnormalAtol, rtol: c.rtol, "\(c.rawValue) expanded seed \(seed)")
        }
    }

    @Test(arguments: UnaryCase.allCases)
    func unaryOnZeroSize(_ c: UnaryCase) {
        for shape in [[0], [0, 3], [2, 0, 4]] {
            let y = c.apply(Tensor.zeros(shape))
            #expect(y.shape == shape && y.count == 0, "\(c.rawValue): shape \(y.shape) for input \(shape)")
            // gradients through an empty op are empty too
            let (_, g) = valueAndGrad([Tensor.zeros(shape)]) { c.apply($0[0]).sum() }
            #expect(g[0].shape == shape)
        }
    }

    @Test(arguments: UnaryCase.allCases)
    func unaryGradient(_ c: UnaryCase) {
        let (lo, hi) = c.gradientRange
        for seed in testSeeds {
            let x = randomTensor([2, 3], seed: seed, low: lo, high: hi)
            checkGradients([x], seed: seed, "\(c.rawValue) seed \(seed)", op: { c.apply($0[0]) },
                           reference: { $0[0].map(c.reference) })
            // the rule must also be right for a strided input
            checkGradients([nonContiguous(x)], seed: seed, "\(c.rawValue) strided seed \(seed)", op: { c.apply($0[0]) },
                           reference: { $0[0].map(c.reference) })
        }
    }

    /// exp overflows to +inf exactly above ln(FLT_MAX), rounds to the subnormals and then to exactly
    /// 0 below ln(2^-150); the functions built on it follow.
    @Test func expOverflowAndUnderflowAreExact() {
        let x = Tensor([-1000, -200, -104, -103.98, -103.9, -90, 88.72283172607421875, 88.72283935546875, 89, 1000,
                        -.infinity, .infinity] as [Float])
        let y = x.exp().toArray()
        #expect(Array(y[0...3]) == [0, 0, 0, 0], "\(y)")
        #expect(y[4] == Float.leastNonzeroMagnitude, "exp(-103.9) = 7.5e-46 rounds up to the smallest subnormal, got \(y[4])")
        #expect(y[5] == Float(Foundation.exp(-90.0)), "exp(-90) = \(y[5])")
        #expect(y[6].isFinite && y[6] > 3.4027e38, "exp(88.722831) = \(y[6]) must be finite")
        #expect(Array(y[7...9]) == [.infinity, .infinity, .infinity], "\(y)")
        #expect(y[10] == 0 && y[11] == .infinity)
        let z = Tensor([-1000, -200, -.infinity, 200, .infinity] as [Float])
        #expect(z.sigmoid().toArray() == [0, 0, 0, 1, 1])
        #expect(z.tanh().toArray() == [-1, -1, -1, 1, 1])
        #expect(z.silu().toArray().prefix(2) == [0, 0])
        #expect(z.softplus().toArray() == [0, 0, 0, 200, .infinity])
        #expect(z.gelu().toArray().prefix(2) == [0, 0] && z.gelu(approximate: true).toArray().prefix(2) == [0, 0])
        #expect(z.erf().toArray() == [-1, -1, -1, 1, 1])
    }

    /// softplus switches to the identity above the threshold; both regions and the gradient there.
    @Test func softplusThresholdRegions() {
        let x = Tensor([-30, -3, 0, 2.4, 2.6, 4, 30] as [Float])
        let y = x.softplus(beta: 2, threshold: 5)
        expectClose(y, values(x).map { 2 * $0 > 5 ? $0 : Foundation.log1p(Foundation.exp(2 * $0)) / 2 }, atol: 0, rtol: 2e-6)
        let (_, g) = valueAndGrad([x]) { $0[0].softplus(beta: 2, threshold: 5).sum() }
        expectClose(g[0], values(x).map { 2 * $0 > 5 ? 1 : 1 / (1 + Foundation.exp(-2 * $0)) }, atol: 1e-7, rtol: 1e-6)
    }

    /// The gradients at the kinks follow PyTorch: relu'(0) = 0, |x|'(0) = 0, clamp passes at the bounds.
    @Test func gradientsAtKinks() {
        let x = Tensor([-1, 0, 1] as [Float])
        let (_, g) = valueAndGrad([x]) { p in
            p[0].relu().sum() + p[0].abs().sum() * 10 + p[0].clamped(min: -1, max: 0).sum() * 100
        }
        expectClose(g[0], [-10 + 100, 0 + 100, 1 + 10], atol: 0, rtol: 0)
    }

    /// pow's gradients at a zero base or exponent are 0 where the formulas would give 0·∞ (PyTorch).
    @Test func powGradientsAtZero() {
        let x = Tensor([0, 2, -3] as [Float])
        let (_, g0) = valueAndGrad([x]) { $0[0].pow(0).sum() }
        expectClose(g0[0], [0, 0, 0], atol: 0, rtol: 0, "d/dx x^0")
        let (_, g2) = valueAndGrad([x]) { $0[0].pow(2).sum() }
        expectClose(g2[0], [0, 4, -6], atol: 0, rtol: 0, "d/dx x^2")
        let a = Tensor([0, 0, 0, 2, 0] as [Float]), b = Tensor([0, 2, 0.5, 0, -1] as [Float])
        let (y, g) = valueAndGrad([a, b]) { $0[0].pow($0[1]).sum() }
        #expect(y.item() == .infinity)   // 0^-1
        expectClose(g[0], [0, 0, .infinity, 0, -.infinity], atol: 0, rtol: 0, "d/da a^b")
        expectClose(g[1], [0, 0, 0, Foundation.log(2), -.infinity], atol: 0, rtol: 1e-7, "d/db a^b")
    }

    @Test func logicalOpsBroadcast() {
        let p = Tensor([true, false, true, false], shape: [2, 2]), q = Tensor([true, false])
        #expect(p.logicalAnd(q).toBoolArray() == [true, false, true, false])
        #expect(p.logicalOr(q).toBoolArray() == [true, false, true, false])
        #expect(p.logicalOr(Tensor([false, true])).toBoolArray() == [true, true, true, true])
        #expect(p.logicalNot().toBoolArray() == [false, true, false, true])
        #expect(p.logicalAnd(q).dtype == .bool)
    }

    @Test func clampedRejectsInvertedBounds() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2]).clamped(min: 1, max: 0)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("clamped: min 1.0 is greater than max 0.0"), "stderr was: \(stderr)")
    }

    // MARK: Binary

    /// Shape pairs covering equal shapes, trailing and leading broadcasts, size-1 on both sides,
    /// rank differences, rank 0 and zero-size dimensions.
    static let shapePairs: [([Int], [Int])] = [
        ([3, 4], [3, 4]), ([3, 4], [4]), ([4], [3, 4]), ([3, 1], [1, 4]), ([2, 1, 4], [3, 1]), ([2, 3, 4], [2, 1, 1]),
        ([], [2, 3]), ([2, 3], []), ([1], [5]), ([5, 1, 2], [1, 3, 1]), ([0, 3], [3]), ([2, 0, 3], [1, 3]),
        ([0], [1]), ([1, 0], [4, 1]),
    ]

    enum BinaryCase: String, CaseIterable, Sendable {
        case add, sub, mul, div, pow, maximum, minimum
        var apply: (Tensor, Tensor) -> Tensor {
            switch self {
            case .add: return { $0 + $1 }
            case .sub: return { $0 - $1 }
            case .mul: return { $0 * $1 }
            case .div: return { $0 / $1 }
            case .pow: return { $0.pow($1) }
            case .maximum: return { Tensor.maximum($0, $1) }
            case .minimum: return { Tensor.minimum($0, $1) }
            }
        }
        var reference: (Double, Double) -> Double {
            switch self {
            case .add: return { $0 + $1 }
            case .sub: return { $0 - $1 }
            case .mul: return { $0 * $1 }
            case .div: return { $0 / $1 }
            case .pow: return { Foundation.pow($0, $1) }
            case .maximum: return { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
            case .minimum: return { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }
            }
        }
        /// Operand ranges: positive bases for pow, divisors away from zero.
        var ranges: ((Float, Float), (Float, Float)) {
            switch self {
            case .pow: return ((0.2, 3), (-2.5, 2.5))
            case .div: return ((-3, 3), (0.5, 3))
            default: return ((-3, 3), (-3, 3))
            }
        }
        /// Division is correctly rounded in float32 but the reference rounds twice (Double, then Float).
        var rtol: Double { self == .pow ? 2e-7 : (self == .div ? 1.2e-7 : 0) }
    }

    @Test(arguments: BinaryCase.allCases)
    func binaryBroadcastsLikeNumPy(_ c: BinaryCase) {
        for seed in testSeeds {
            for (sa, sb) in Self.shapePairs {
                let a = randomTensor(sa, seed: seed, low: c.ranges.0.0, high: c.ranges.0.1)
                let b = randomTensor(sb, seed: seed &+ 100, low: c.ranges.1.0, high: c.ranges.1.1)
                let expected = float32Reference2(values(a), sa, values(b), sb, c.reference)
                let outShape = Tensor.broadcastShape(sa, sb)
                expectClose(c.apply(a, b), expected, shape: outShape, atol: 0, rtol: c.rtol, "\(c) \(sa) with \(sb) seed \(seed)")
                if hasStridedForm(sa) || hasStridedForm(sb) {
                    let na = hasStridedForm(sa) ? nonContiguous(a) : a, nb = hasStridedForm(sb) ? nonContiguous(b) : b
                    expectClose(c.apply(na, nb), expected, shape: outShape, atol: 0, rtol: c.rtol,
                                "\(c) non-contiguous \(sa) with \(sb) seed \(seed)")
                }
            }
        }
    }

    /// Operands that are flipped, sliced and expanded views, in both positions.
    @Test(arguments: BinaryCase.allCases)
    func binaryOnStridedViews(_ c: BinaryCase) {
        for seed in testSeeds {
            let a = randomTensor([4, 6], seed: seed, low: c.ranges.0.0, high: c.ranges.0.1)
            let b = randomTensor([6, 4], seed: seed &+ 1, low: c.ranges.1.0, high: c.ranges.1.1)
            let av = a.flipped(axes: [1]).sliced(axis: 1, start: 1, step: 2)          // [4, 3], negative stride
            let bv = b.transposed().sliced(axis: 0, start: 0, end: 1).expanded(to: [4, 3, 6]) // [4, 3, 6] with stride 0
                .sliced(axis: 2, start: 2, step: 2)                                      // [4, 3, 2]
            let av3 = av.unsqueezed(axis: 2)                                             // [4, 3, 1]
            let expected = float32Reference2(values(av3), av3.shape, values(bv), bv.shape, c.reference)
            expectClose(c.apply(av3, bv), expected, shape: [4, 3, 2], atol: 0, rtol: c.rtol, "\(c) views seed \(seed)")
            let swapped = float32Reference2(values(bv), bv.shape, values(av3), av3.shape, c.reference)
            expectClose(c.apply(bv, av3), swapped, shape: [4, 3, 2], atol: 0, rtol: c.rtol, "\(c) views swapped seed \(seed)")
        }
    }

    /// Large elementwise operands take the multi-threaded path (above 32768 elements).
    @Test func binaryAndUnaryOnLargeTensors() {
        let a = randomTensor([300, 130], seed: 5), b = randomTensor([130], seed: 6)
        let av = a.toArray(), bv = b.toArray()
        let expected = (0..<av.count).map { i in Double(av[i] * bv[i % 130] + av[i]) }   // two float32 roundings
        expectClose(a * b + a, expected, atol: 0, rtol: 0, "mul then add")
        let t = a.transposed()
        expectClose(t.exp(), float32Reference(values(t), Foundation.exp), atol: 0, rtol: 2e-6, "exp of a transposed view")
    }

    @Test func scalarOperandsOnBothSides() {
        for seed in testSeeds {
            let a = randomTensor([3, 4], seed: seed, low: 0.5, high: 3)
            let x = values(a), s: Float = 2.5, d = 2.5
            let cases: [(String, Tensor, (Double) -> Double)] = [
                ("a + s", a + s, { $0 + d }), ("s + a", s + a, { d + $0 }),
                ("a - s", a - s, { $0 - d }), ("s - a", s - a, { d - $0 }),
                ("a * s", a * s, { $0 * d }), ("s * a", s * a, { d * $0 }),
                ("a / s", a / s, { $0 / d }), ("s / a", s / a, { d / $0 }),
            ]
            for (name, got, f) in cases {
                expectClose(got, float32Reference(x, f), shape: [3, 4], atol: 0, rtol: 1.2e-7, "\(name) seed \(seed)")
            }
            for (name, op, f) in [("a - s", { (t: Tensor) in t - s }, { (v: Double) in v - d }),
                                  ("s - a", { (t: Tensor) in s - t }, { (v: Double) in d - v }),
                                  ("a / s", { (t: Tensor) in t / s }, { (v: Double) in v / d }),
                                  ("s / a", { (t: Tensor) in s / t }, { (v: Double) in d / v }),
                                  ("s * a + s", { (t: Tensor) in s * t + s }, { (v: Double) in d * v + d })] {
                checkGradients([a], seed: seed, "\(name) seed \(seed)", op: { op($0[0]) }, reference: { $0[0].map(f) })
            }
        }
    }

    @Test func specialValuesInBinaryOps() {
        let a = Tensor([1, .nan, .infinity, -.infinity, 0, 0, 2] as [Float])
        let b = Tensor([.nan, 1, .infinity, .infinity, 0, -3, .infinity] as [Float])
        for c in BinaryCase.allCases {
            expectClose(c.apply(a, b), float32Reference2(values(a), [7], values(b), [7], c.reference), atol: 0, rtol: 0, "\(c)")
        }
    }

    @Test(arguments: BinaryCase.allCases)
    func binaryGradientsWithBroadcasting(_ c: BinaryCase) {
        let pairs: [([Int], [Int])] = [([2, 3], [2, 3]), ([2, 3, 4], [3, 1]), ([3, 1], [1, 4]), ([4], [2, 3, 4]), ([], [2, 3]), ([2, 1, 3], [])]
        for seed in testSeeds {
            for (sa, sb) in pairs {
                let a = randomTensor(sa, seed: seed, low: c.ranges.0.0, high: c.ranges.0.1)
                let b = randomTensor(sb, seed: seed &+ 7, low: c.ranges.1.0, high: c.ranges.1.1)
                checkGradients([a, b], seed: seed, "\(c) \(sa) with \(sb) seed \(seed)", op: { c.apply($0[0], $0[1]) },
                               reference: { Ref.broadcast($0[0], sa, $0[1], sb, c.reference) })
            }
            // strided operands and only one operand requiring gradients
            let a = randomTensor([3, 4], seed: seed, low: c.ranges.0.0, high: c.ranges.0.1)
            let b = randomTensor([4, 3], seed: seed &+ 3, low: c.ranges.1.0, high: c.ranges.1.1).transposed()
            checkGradients([a, b], constant: [0], seed: seed, "\(c) strided, b only", op: { c.apply($0[0], $0[1]) },
                           reference: { Ref.broadcast($0[0], [3, 4], $0[1], [3, 4], c.reference) })
            checkGradients([a, b], constant: [1], seed: seed, "\(c) strided, a only", op: { c.apply($0[0], $0[1]) },
                           reference: { Ref.broadcast($0[0], [3, 4], $0[1], [3, 4], c.reference) })
        }
    }

    /// maximum/minimum send the whole gradient to the first operand on ties.
    @Test func maximumAndMinimumTies() {
        let a = Tensor([1, 2, 3] as [Float]), b = Tensor([1, 5, 0] as [Float])
        let (_, gmax) = valueAndGrad([a, b]) { Tensor.maximum($0[0], $0[1]).sum() }
        expectClose(gmax[0], [1, 0, 1], atol: 0, rtol: 0); expectClose(gmax[1], [0, 1, 0], atol: 0, rtol: 0)
        let (_, gmin) = valueAndGrad([a, b]) { Tensor.minimum($0[0], $0[1]).sum() }
        expectClose(gmin[0], [1, 1, 0], atol: 0, rtol: 0); expectClose(gmin[1], [0, 0, 1], atol: 0, rtol: 0)
    }

    // MARK: Comparisons and where

    @Test func comparisonsBroadcastAndGiveBool() {
        let ops: [(Comparison, (Double, Double) -> Bool)] = [
            (.equal, { $0 == $1 }), (.notEqual, { $0 != $1 }), (.less, { $0 < $1 }),
            (.lessEqual, { $0 <= $1 }), (.greater, { $0 > $1 }), (.greaterEqual, { $0 >= $1 }),
        ]
        for seed in testSeeds {
            for (sa, sb) in Self.shapePairs {
                // small integers so that ties are frequent
                let a = randomTensor(sa, seed: seed, low: -2, high: 2).unaryRaw(.sign)
                let b = randomTensor(sb, seed: seed &+ 50, low: -2, high: 2).unaryRaw(.sign)
                for (op, f) in ops {
                    let expected = Ref.broadcast(values(a), sa, values(b), sb) { f($0, $1) ? 1 : 0 }
                    let y = a.compared(op, b)
                    #expect(y.dtype == .bool && y.shape == Tensor.broadcastShape(sa, sb), "\(op) \(sa) \(sb)")
                    #expect(y.toBoolArray() == expected.map { $0 != 0 }, "\(op) \(sa) with \(sb) seed \(seed)")
                    if hasStridedForm(sa) {
                        #expect(nonContiguous(a).compared(op, b).toBoolArray() == expected.map { $0 != 0 },
                                "\(op) non-contiguous \(sa) with \(sb) seed \(seed)")
                    }
                }
            }
        }
        // NaN compares unequal to everything; scalar comparisons
        let x = Tensor([.nan, 1, 2] as [Float])
        #expect(x.compared(.equal, x).toBoolArray() == [false, true, true])
        #expect(x.compared(.notEqual, x).toBoolArray() == [true, false, false])
        #expect(x.compared(.lessEqual, 1).toBoolArray() == [false, true, false])
        #expect(x.compared(.greater, 1).toBoolArray() == [false, false, true])
    }

    @Test func whereSelectsWithBroadcastingAndRoutesGradients() {
        for seed in testSeeds {
            let cond = randomTensor([3, 1], seed: seed).compared(.greater, 0)
            let condValues = cond.toBoolArray().map { $0 ? 1.0 : 0.0 }
            let a = randomTensor([3, 4], seed: seed &+ 1), b = randomTensor([4], seed: seed &+ 2)
            func reference(_ av: [Double], _ bv: [Double]) -> [Double] {
                (0..<12).map { i in condValues[i / 4] != 0 ? av[i] : bv[i % 4] }
            }
            expectClose(Tensor.where(cond, a, b), reference(values(a), values(b)), shape: [3, 4], atol: 0, rtol: 0, "where seed \(seed)")
            expectClose(Tensor.where(cond, nonContiguous(a), b), reference(values(a), values(b)), shape: [3, 4], atol: 0, rtol: 0)
            checkGradients([a, b], seed: seed, "where seed \(seed)", op: { Tensor.where(cond, $0[0], $0[1]) },
                           reference: { reference($0[0], $0[1]) })
        }
        let x = Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
        expectClose(x.maskedFill(Tensor([true, false]), -1), [-1, 2, -1, 4], atol: 0, rtol: 0)
    }

    // MARK: Misuse

    @Test func shapeMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) * Tensor.zeros([3, 2])
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("mul: shapes [2, 3] and [3, 2] cannot be broadcast together"), "stderr was: \(stderr)")
    }

    @Test func comparisonShapeMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([4]).compared(.less, Tensor.zeros([5]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("compared: shapes [4] and [5] cannot be broadcast together"), "stderr was: \(stderr)")
    }

    @Test func integerTensorIntoExpNamesTheDtype() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor([1, 2, 3]).exp()
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("exp: needs a float32 tensor, got int64 with shape [3]"), "stderr was: \(stderr)")
    }

    @Test func integerTensorIntoBinaryNamesTheDtype() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([3]) + Tensor([1, 2, 3], dtype: .int32)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("add: needs a float32 tensor, got int32 with shape [3]"), "stderr was: \(stderr)")
    }
}

/// `Ref.broadcast` with the result rounded to float32 (see `float32Reference`).
func float32Reference2(_ a: [Double], _ sa: [Int], _ b: [Double], _ sb: [Int], _ f: (Double, Double) -> Double) -> [Double] {
    Ref.broadcast(a, sa, b, sb, f).map { Double(Float($0)) }
}

/// Whether `nonContiguous` can lay out this shape with real strides (it needs two axes longer than 1).
func hasStridedForm(_ shape: [Int]) -> Bool { shape.filter { $0 > 1 }.count >= 2 }
