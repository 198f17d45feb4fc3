// Conversions between every pair of dtypes, checked bit-exactly against references computed here
// from the definition of each format (round to nearest even, truncation toward zero, wrap-around).
import Foundation
import Testing
@testable import OmniTensor

/// A binary floating-point format: significand bits (with the implicit one), exponent range.
struct FloatFormat {
    let bits: Int, emin: Int, emax: Int
    static let float32 = FloatFormat(bits: 24, emin: -126, emax: 127)
    static let bfloat16 = FloatFormat(bits: 8, emin: -126, emax: 127)
    static let float16 = FloatFormat(bits: 11, emin: -14, emax: 15)

    static func of(_ dtype: DType) -> FloatFormat? {
        switch dtype {
        case .float32: return .float32
        case .bfloat16: return .bfloat16
        case .float16: return .float16
        default: return nil
        }
    }

    var maxFinite: Double { (2 - Double(sign: .plus, exponent: -(bits - 1), significand: 1)) * Double(sign: .plus, exponent: emax, significand: 1) }

    /// `x` rounded to this format, to nearest with ties to even (overflow to ±inf, gradual underflow).
    func round(_ x: Double) -> Double {
        if x.isNaN || x.isInfinite || x == 0 { return x }
        let e = Swift.max(x.exponent, emin)
        let quantum = Double(sign: .plus, exponent: e - (bits - 1), significand: 1)
        let r = (x / quantum).rounded(.toNearestOrEven) * quantum
        if Swift.abs(r) > maxFinite { return x < 0 ? -.infinity : .infinity }
        return r == 0 ? (x < 0 ? -0.0 : 0.0) : r
    }

    /// An integer rounded to this format, exactly (no intermediate rounding through Double).
    func round(_ v: Int) -> Double {
        let mag = v.magnitude
        if mag == 0 { return 0 }
        let width = UInt.bitWidth - mag.leadingZeroBitCount
        var r: Double
        if width <= bits {
            r = Double(mag)
        } else {
            let shift = width - bits
            var q = mag >> UInt(shift)
            let rem = mag & ((UInt(1) << UInt(shift)) - 1)
            let half = UInt(1) << UInt(shift - 1)
            if rem > half || (rem == half && q & 1 == 1) { q += 1 }
            r = Double(q) * Double(sign: .plus, exponent: shift, significand: 1)
        }
        if r > maxFinite { r = .infinity }
        return v < 0 ? -r : r
    }
}

/// Two's-complement wrap of `v` to the width of an integer dtype; bool is `v != 0`.
func wrapInt(_ v: Int, _ dtype: DType) -> Int {
    switch dtype {
    case .int8: return Int(Int8(truncatingIfNeeded: v))
    case .uint8: return Int(UInt8(truncatingIfNeeded: v))
    case .int32: return Int(Int32(truncatingIfNeeded: v))
    case .int64: return v
    case .bool: return v != 0 ? 1 : 0
    default: preconditionFailure("not an integer dtype")
    }
}

/// Float → integer as documented: truncate toward zero to int64 (NaN → 0, out of range saturates
/// at the int64 bounds), then wrap to the target width; → bool is `x != 0` (NaN is true).
func floatToInt(_ d: Double, _ dtype: DType) -> Int {
    if dtype == .bool { return d != 0 ? 1 : 0 }
    let v: Int
    if d.isNaN { v = 0 } else if d >= 0x1p63 { v = .max } else if d <= -0x1p63 { v = .min } else { v = Int(d.rounded(.towardZero)) }
    return wrapInt(v, dtype)
}

/// Decodes IEEE binary16 bits.
func decodeHalf(_ b: UInt16) -> Double {
    let sign: Double = b & 0x8000 != 0 ? -1 : 1
    let exp = Int((b >> 10) & 0x1f), man = Double(b & 0x3ff)
    if exp == 0 { return sign * man * 0x1p-24 }
    if exp == 31 { return man == 0 ? sign * .infinity : .nan }
    return sign * (1024 + man) * Double(sign: .plus, exponent: exp - 25, significand: 1)
}

/// The stored values of a float tensor, decoded from its raw bits (independent of the kernels).
func storedFloats(_ t: Tensor) -> [Double] {
    let c = t.contiguous()
    switch c.dtype {
    case .float32:
        let p = c.rawPointer.assumingMemoryBound(to: Float.self)
        return (0..<c.count).map { Double(p[$0]) }
    case .bfloat16:
        let p = c.rawPointer.assumingMemoryBound(to: UInt16.self)
        return (0..<c.count).map { Double(Float(bitPattern: UInt32(p[$0]) << 16)) }
    case .float16:
        let p = c.rawPointer.assumingMemoryBound(to: UInt16.self)
        return (0..<c.count).map { decodeHalf(p[$0]) }
    default: preconditionFailure("not a float dtype")
    }
}

/// The stored values of an integer or bool tensor, read from its raw bytes.
func storedInts(_ t: Tensor) -> [Int] {
    let c = t.contiguous()
    let r = c.rawPointer
    switch c.dtype {
    case .int8: return (0..<c.count).map { Int(r.assumingMemoryBound(to: Int8.self)[$0]) }
    case .uint8, .bool: return (0..<c.count).map { Int(r.assumingMemoryBound(to: UInt8.self)[$0]) }
    case .int32: return (0..<c.count).map { Int(r.assumingMemoryBound(to: Int32.self)[$0]) }
    case .int64: return (0..<c.count).map { Int(r.assumingMemoryBound(to: Int64.self)[$0]) }
    default: preconditionFailure("not an integer dtype")
    }
}

/// Bit-exact comparison (NaN matches NaN; the sign of zero must match too).
func expectSameFloats(_ got: [Double], _ want: [Double], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.count == want.count, "\(what): \(got.count) values, expected \(want.count)", sourceLocation: sourceLocation)
    for i in 0..<Swift.min(got.count, want.count) {
        let (a, e) = (got[i], want[i])
        let same = (a.isNaN && e.isNaN) || (a == e && a.sign == e.sign)
        if !same {
            Issue.record("\(what): index \(i): got \(a), expected \(e)", sourceLocation: sourceLocation)
            return
        }
    }
}

/// A strided view (every second element of a wider buffer) with the values and dtype of `t`;
/// unlike `nonContiguous` it keeps integer dtypes exact.
func stridedAnyDType(_ t: Tensor) -> Tensor {
    Tensor.stacked([t, t], axis: t.rank).narrowed(axis: t.rank, start: 1, length: 1).squeezed(axis: t.rank)
}

@Suite struct DTypeTests {
    /// Float inputs covering rounding ties of both half formats, overflow, underflow, NaN/inf,
    /// narrow-int wrap-around and truncation, plus random values.
    static let floatInputs: [Float] = {
        var v: [Float] = [0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.7, -2.7, 127.9, 128.5, -128.7, -129.3, 255.5, 256.7,
                          300.2, -300.2, 65504, 65519, 65520, 70000, 1e10, -1e10, 3e9, -3e9, 1e20, -1e20,
                          .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity, .nan,
                          0x1.16c2p-133, -0x1.16c2p-133, 1e-8, -1e-8,  // ±1e-40: float32 subnormals
                          // bfloat16 ties: halfway cases round to the even neighbour
                          1 + 0x1p-8, 1 + 3 * 0x1p-8, 1 + 0x1p-8 + 0x1p-20, -(1 + 0x1p-8), -(1 + 3 * 0x1p-8),
                          // bfloat16 max, and the halfway point above it (rounds to inf)
                          (2 - 0x1p-7) * 0x1p127, (2 - 0x1p-8) * 0x1p127, (2 - 0x1p-8) * 0x1p127 - 0x1p103,
                          // float16 ties, subnormals and the smallest subnormal's halfway point
                          1 + 0x1p-11, 1 + 3 * 0x1p-11, 1 + 0x1p-11 + 0x1p-20, 2049, 2051, -2049,
                          0x1p-24, 0x1p-25, 1.5 * 0x1p-25, 3 * 0x1p-25, 0x1p-14, 0x1p-15 + 0x1p-25]
        let g = Generator(seed: 5)
        v += Tensor.uniform([40], low: -300, high: 300, generator: g).toArray()
        v += Tensor.normal([40], generator: g).toArray()
        return v
    }()

    static let intInputs: [Int] = [Int.min, -(1 << 40) - 3, -(1 << 31), -(1 << 31) + 1, -16_777_217, -300, -129, -128,
                                   -1, 0, 1, 2, 127, 128, 200, 255, 256, 2049, 65504, 65519, 65520, 16_777_217,
                                   (1 << 30) + (1 << 22) + 1, (1 << 30) + (1 << 22), (1 << 31) - 1, (1 << 53) + 1,
                                   (1 << 62) + (1 << 54) + 1, Int.max]

    /// A source tensor of `dtype`, and its stored values (as Double for floats, Int otherwise).
    static func source(_ dtype: DType) -> Tensor {
        if dtype.isFloatingPoint { return Tensor(floatInputs).converted(to: dtype) }
        if dtype == .bool { return Tensor([true, false, false, true, true]) }
        return Tensor(intInputs, dtype: dtype)
    }

    @Test(arguments: DType.allCases) func conversionsFrom(_ src: DType) {
        for layout in ["dense", "strided"] {
            let base = DTypeTests.source(src)
            let x = layout == "dense" ? base : stridedAnyDType(base)
            #expect(x.dtype == src && (layout == "dense" || !x.isContiguous))
            for dst in DType.allCases {
                let y = x.converted(to: dst)
                let what = "\(src) → \(dst) (\(layout))"
                #expect(y.dtype == dst && y.shape == x.shape, "\(what): got \(y.dtype) \(y.shape)")
                if let fmt = FloatFormat.of(dst) {
                    let want: [Double] = src.isFloatingPoint ? storedFloats(base).map(fmt.round)
                                                             : storedInts(base).map(fmt.round)
                    expectSameFloats(storedFloats(y), want, what)
                } else {
                    let want: [Int] = src.isFloatingPoint ? storedFloats(base).map { floatToInt($0, dst) }
                                                          : storedInts(base).map { wrapInt($0, dst) }
                    let got = storedInts(y)
                    #expect(got == want, "\(what): first mismatch at \(Array(zip(got, want)).firstIndex { $0.0 != $0.1 } ?? -1)")
                }
            }
        }
    }

    /// The integer initialiser wraps like the conversions do (int64 → narrower two's complement).
    @Test func integerInitialiserWraps() {
        for dt in [DType.int8, .uint8, .int32, .int64] {
            #expect(storedInts(Tensor(DTypeTests.intInputs, dtype: dt)) == DTypeTests.intInputs.map { wrapInt($0, dt) }, "\(dt)")
        }
        #expect(storedInts(Tensor([0, 2, -1, 256], dtype: .bool)) == [0, 1, 1, 1])
        #expect(Tensor([true, false]).toBoolArray() == [true, false])
    }

    /// Spot values written out by hand, so the references above are themselves checked.
    @Test func handCheckedValues() {
        let bf = Tensor([Float(1 + 0x1p-8), Float(1 + 3 * 0x1p-8), Float(1 + 0x1p-8 + 0x1p-20), Float((2 - 0x1p-8) * 0x1p127)]).converted(to: .bfloat16)
        expectSameFloats(storedFloats(bf), [1, 1 + 0x1p-6, 1 + 0x1p-7, .infinity], "bf16 ties")
        let h = Tensor([Float(1 + 0x1p-11), Float(1 + 3 * 0x1p-11), 65519, 65520, Float(0x1p-25), Float(1.5 * 0x1p-25)]).converted(to: .float16)
        expectSameFloats(storedFloats(h), [1, 1 + 0x1p-9, 65504, .infinity, 0, 0x1p-24], "f16 ties")
        // an int32 whose float32 rounding lands exactly on a bfloat16 tie: it must still round up
        let i = Tensor([(1 << 30) + (1 << 22) + 1], dtype: .int32).converted(to: .bfloat16)
        expectSameFloats(storedFloats(i), [Double((1 << 30) + (1 << 23))], "int32 → bf16 without double rounding")
        #expect(Tensor([2.9, -2.9, 300.5, -1.5]).converted(to: .int8).toIntArray() == [2, -2, 44, -1])
        #expect(Tensor([-1.5, 255.9, 256.2]).converted(to: .uint8).toIntArray() == [255, 255, 0])
        #expect(Tensor([Float.nan, 0, -0.0, 1e-30]).converted(to: .bool).toBoolArray() == [true, false, false, true])
        #expect(Tensor([Float.nan, .infinity, -.infinity]).converted(to: .int64).toIntArray() == [0, Int.max, Int.min])
        let nanBF = storedFloats(Tensor([Float.nan, -Float.nan, .infinity]).converted(to: .bfloat16))
        #expect(nanBF[0].isNaN && nanBF[1].isNaN && nanBF[2] == .infinity)
    }

    @Test func emptyAndScalarConversions() {
        for dt in DType.allCases {
            let e = Tensor.zeros([0, 3]).converted(to: dt)
            #expect(e.shape == [0, 3] && e.dtype == dt && e.count == 0)
            let s = Tensor(Float(-2.5)).converted(to: dt)
            #expect(s.shape == [] && s.dtype == dt)
            #expect(s.toArray() == [dt == .bool ? 1 : (dt.isFloatingPoint ? -2.5 : Float(wrapInt(-2, dt)))], "\(dt)")
        }
    }

    /// Float → float conversions pass gradients straight through (rounded to the input's dtype),
    /// so the reference of the gradient is the identity.
    @Test func gradientsFlowThroughFloatConversions() {
        for seed in testSeeds {
            let x = randomTensor([3, 4], seed: seed)
            for (mid, rtol) in [(DType.bfloat16, 1e-2), (.float16, 2e-3)] {
                let fmt = FloatFormat.of(mid)!
                let y = nonContiguous(x).converted(to: mid).converted(to: .float32)
                expectClose(y, values(x).map(fmt.round), shape: [3, 4], atol: 0, rtol: 0, "round trip through \(mid)")
                checkGradients([x], rtol: rtol, "f32 → \(mid) → f32", op: { $0[0].converted(to: mid).converted(to: .float32) },
                               reference: { $0[0] })
                // a leaf stored in the narrow type, used twice: gradients accumulate in its dtype
                let leaf = x.converted(to: mid)
                checkGradients([leaf], rtol: rtol, "\(mid) leaf used twice", op: {
                    let a = $0[0].converted(to: .float32), b = $0[0].converted(to: .float32)
                    return a * b + a
                }, reference: { $0[0].map { $0 * $0 + $0 } })
            }
        }
        let g = valueAndGrad([Tensor([1.5, -2.25]).converted(to: .bfloat16)]) { p in
            (p[0].converted(to: .float32) * p[0].converted(to: .float32)).sum()
        }.grads[0]
        #expect(g.dtype == .bfloat16 && g.toArray() == [3, -4.5])
    }

    @Test func dtypeProperties() {
        let sizes: [DType: Int] = [.float32: 4, .bfloat16: 2, .float16: 2, .int8: 1, .uint8: 1, .int32: 4, .int64: 8, .bool: 1]
        for dt in DType.allCases {
            #expect(dt.size == sizes[dt])
            #expect(dt.isFloatingPoint == [.float32, .bfloat16, .float16].contains(dt))
            #expect(DType(rawValue: dt.description) == dt)
        }
    }

    @Test func integerLeafIsRefused() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor([1, 2, 3]).requiringGrad()
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("requiringGrad") && stderr.contains("int64"), "stderr was: \(stderr)")
    }
}
