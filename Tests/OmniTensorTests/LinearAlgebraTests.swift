// matmul / linear / bf16 / int8 matmul against Float64 (or exact integer) references: every rank
// case, broadcast batch axes, strided and transposed views (passed to oneDNN without copies), empty
// sizes, the primitive cache, gradients and misuse messages.
import COmniKernels
import Foundation
import Testing
@testable import OmniTensor

/// NumPy `matmul` of `a` (shape `sa`) and `b` (shape `sb`) in Double: 1-D operands promoted and the
/// added axis removed, batch axes broadcast.
func refMatmul(_ a: [Double], _ sa: [Int], _ b: [Double], _ sb: [Int]) -> (values: [Double], shape: [Int]) {
    let pa = sa.count == 1 ? [1] + sa : sa, pb = sb.count == 1 ? sb + [1] : sb
    let M = pa[pa.count - 2], K = pa[pa.count - 1], N = pb[pb.count - 1]
    precondition(pb[pb.count - 2] == K)
    let ba = Array(pa.dropLast(2)), bb = Array(pb.dropLast(2))
    let batch = Tensor.broadcastShape(ba, bb)
    let nb = batch.reduce(1, *)
    var out = [Double](repeating: 0, count: nb * M * N)
    for bi in 0..<nb {
        let idx = Ref.index(bi, batch)
        func offset(_ s: [Int]) -> Int {
            let lead = batch.count - s.count
            return Ref.flat((0..<s.count).map { s[$0] == 1 ? 0 : idx[$0 + lead] }, s)
        }
        let oa = offset(ba) * M * K, ob = offset(bb) * K * N
        for m in 0..<M {
            for n in 0..<N {
                var s = 0.0
                for k in 0..<K { s += a[oa + m * K + k] * b[ob + k * N + n] }
                out[(bi * M + m) * N + n] = s
            }
        }
    }
    var shape = batch + [M, N]
    if sa.count == 1 { shape.remove(at: shape.count - 2) }
    if sb.count == 1 { shape.removeLast() }
    return (out, shape)
}

/// `x · weightᵀ + bias` in Double: x [..., in], weight [out, in], bias [out].
func refLinear(_ x: [Double], _ sx: [Int], _ w: [Double], _ sw: [Int], _ bias: [Double]?) -> [Double] {
    let (out, inF) = (sw[0], sw[1])
    let rows = sx.dropLast().reduce(1, *)
    var y = [Double](repeating: 0, count: rows * out)
    for r in 0..<rows {
        for o in 0..<out {
            var s = bias?[o] ?? 0
            for i in 0..<inF { s += x[r * inF + i] * w[o * inF + i] }
            y[r * out + o] = s
        }
    }
    return y
}

@Suite struct LinearAlgebraTests {
    /// Every rank combination, broadcast batch axes (both sides, different ranks), size-1 sizes.
    static let shapePairs: [([Int], [Int])] = [
        ([4], [4]), ([4], [4, 3]), ([3, 4], [4]), ([3, 4], [4, 5]), ([1, 4], [4, 1]), ([3, 1], [1, 5]),
        ([2, 3, 4], [2, 4, 5]), ([2, 3, 4], [4, 5]), ([3, 4], [2, 4, 5]), ([2, 1, 3, 4], [5, 4, 2]),
        ([5, 3, 4], [2, 1, 4, 2]), ([1, 3, 4], [2, 4, 5]), ([2, 3, 4], [1, 4, 5]), ([4], [2, 4, 3]), ([2, 3, 4], [4]),
        ([2, 2, 1, 4], [4, 3]), ([3, 1, 4], [3, 4, 1]),
    ]

    @Test func matmulMatchesFloat64ForEveryRankCase() {
        for seed in testSeeds {
            for (sa, sb) in Self.shapePairs {
                let a = randomTensor(sa, seed: seed), b = randomTensor(sb, seed: seed &+ 11)
                let (expected, shape) = refMatmul(values(a), sa, values(b), sb)
                let what = "\(sa) x \(sb) seed \(seed)"
                expectClose(a.matmul(b), expected, shape: shape, atol: 1e-5, rtol: 1e-5, what)
                if hasStridedForm(sa) || hasStridedForm(sb) {
                    let na = hasStridedForm(sa) ? nonContiguous(a) : a, nb = hasStridedForm(sb) ? nonContiguous(b) : b
                    expectClose(na.matmul(nb), expected, shape: shape, atol: 1e-5, rtol: 1e-5, "strided " + what)
                }
            }
        }
    }

    /// Views of every kind as operands: transposed (column-major), row-padded, permuted batches,
    /// stride-0 rows/columns/batches from `expanded`, negative strides, single rows and columns.
    @Test func matmulOnViews() {
        for seed in testSeeds {
            let g = { (shape: [Int], s: UInt64) in randomTensor(shape, seed: seed &* 31 &+ s) }
            let b45 = g([4, 5], 1), a34 = g([3, 4], 2)
            let views: [(String, Tensor, Tensor)] = [
                ("transposed a", g([4, 3], 3).transposed(), b45),
                ("transposed b", a34, g([5, 4], 4).transposed()),
                ("both transposed", g([4, 3], 5).transposed(), g([5, 4], 6).transposed()),
                ("row-padded a", g([3, 9], 7).sliced(axis: 1, start: 2, end: 6), b45),
                ("row-padded b", a34, g([4, 8], 8).narrowed(axis: 1, start: 1, length: 5)),
                ("column-strided a", g([3, 8], 9).sliced(axis: 1, start: 0, step: 2), b45),
                ("stride-0 rows a", g([1, 4], 10).expanded(to: [3, 4]), b45),
                ("stride-0 columns a", g([3, 1], 11).expanded(to: [3, 4]), b45),
                ("stride-0 rows b", a34, g([1, 5], 12).expanded(to: [4, 5])),
                ("stride-0 columns b", a34, g([4, 1], 13).expanded(to: [4, 5])),
                ("stride-0 everything", g([1, 1], 14).expanded(to: [3, 4]), g([1, 1], 15).expanded(to: [4, 5])),
                ("flipped a", g([3, 4], 16).flipped(axes: [0]), b45),
                ("flipped b", a34, g([4, 5], 17).flipped(axes: [0, 1])),
                ("single row of a transposed", g([4, 3], 18).transposed().narrowed(axis: 0, start: 1, length: 1), b45),
                ("single column of b", a34, g([4, 5], 19).narrowed(axis: 1, start: 2, length: 1)),
                ("batched transposed a", g([2, 4, 3], 20).transposed(), g([2, 4, 5], 21)),
                ("batched transposed b", g([2, 3, 4], 22), g([2, 5, 4], 23).transposed()),
                ("permuted batch a", g([3, 2, 4], 24).permuted([1, 0, 2]), g([2, 4, 5], 25)),
                ("permuted batch b", g([2, 3, 4], 26), g([4, 2, 5], 27).permuted([1, 0, 2])),
                ("stride-0 batch a", g([1, 3, 4], 28).expanded(to: [2, 3, 4]), g([2, 4, 5], 29)),
                ("stride-0 batch b", g([2, 3, 4], 30), g([4, 5], 31).expanded(to: [2, 4, 5])),
                ("sliced batch a", g([4, 3, 4], 32).sliced(axis: 0, start: 0, step: 2), g([2, 4, 5], 33)),
                ("flipped batch b", g([2, 3, 4], 34), g([2, 4, 5], 35).flipped(axes: [0])),
                ("batch of single rows", g([2, 3, 4], 36).narrowed(axis: 1, start: 1, length: 1), g([2, 4, 5], 37)),
                ("batch of single columns", g([2, 3, 4], 38), g([2, 4, 5], 39).narrowed(axis: 2, start: 4, length: 1)),
                ("broadcast batch with transposed", g([2, 1, 4, 3], 40).transposed(), g([5, 5, 4], 41).transposed()),
            ]
            for (name, a, b) in views {
                let (expected, shape) = refMatmul(values(a), a.shape, values(b), b.shape)
                expectClose(a.matmul(b), expected, shape: shape, atol: 1e-5, rtol: 1e-5, "\(name) seed \(seed)")
            }
        }
    }

    /// Sizes above oneDNN's small-matrix paths and the copy paths stay right.
    @Test func matmulMediumSizes() {
        let a = randomTensor([2, 33, 70], seed: 3), b = randomTensor([70, 65], seed: 4)
        let (expected, shape) = refMatmul(values(a), a.shape, values(b), b.shape)
        expectClose(a.matmul(b), expected, shape: shape, atol: 1e-4, rtol: 1e-5)
        let bt = randomTensor([65, 70], seed: 5).transposed()
        let (expectedT, _) = refMatmul(values(a), a.shape, values(bt), bt.shape)
        expectClose(a.matmul(bt), expectedT, shape: shape, atol: 1e-4, rtol: 1e-5, "transposed b")
    }

    @Test func matmulWithEmptySizes() {
        // K = 0: all zeros
        expectClose(Tensor.zeros([3, 0]).matmul(Tensor.zeros([0, 4])), [Double](repeating: 0, count: 12), shape: [3, 4], atol: 0, rtol: 0)
        expectClose(Tensor.zeros([2, 3, 0]).matmul(Tensor.zeros([0, 4])), [Double](repeating: 0, count: 24), shape: [2, 3, 4], atol: 0, rtol: 0)
        expectClose(Tensor.zeros([0]).matmul(Tensor.zeros([0])), [0], shape: [], atol: 0, rtol: 0)
        // zero-size M, N or batch
        #expect(Tensor.zeros([0, 4]).matmul(randomTensor([4, 5], seed: 1)).shape == [0, 5])
        #expect(randomTensor([3, 4], seed: 1).matmul(Tensor.zeros([4, 0])).shape == [3, 0])
        #expect(Tensor.zeros([0, 3, 4]).matmul(randomTensor([4, 5], seed: 1)).shape == [0, 3, 5])
        #expect(Tensor.zeros([2, 0, 3, 4]).matmul(randomTensor([1, 4, 5], seed: 1)).shape == [2, 0, 3, 5])
        // gradients through empty products have the operands' shapes (and are zero for K = 0)
        let (_, g) = valueAndGrad([Tensor.zeros([3, 0]), Tensor.zeros([0, 4])]) { $0[0].matmul($0[1]).sum() }
        #expect(g[0].shape == [3, 0] && g[1].shape == [0, 4])
        let a = randomTensor([0, 4], seed: 2), b = randomTensor([4, 5], seed: 3)
        let (_, g2) = valueAndGrad([a, b]) { $0[0].matmul($0[1]).sum() }
        expectClose(g2[1], [Double](repeating: 0, count: 20), shape: [4, 5], atol: 0, rtol: 0, "dB of an empty product")
    }

    @Test func matmulGradientsForEveryRankCase() {
        for seed in testSeeds {
            for (sa, sb) in Self.shapePairs {
                let a = randomTensor(sa, seed: seed), b = randomTensor(sb, seed: seed &+ 11)
                checkGradients([a, b], seed: seed, "matmul \(sa) x \(sb) seed \(seed)", op: { $0[0].matmul($0[1]) },
                               reference: { refMatmul($0[0], sa, $0[1], sb).values })
            }
            // transposed operands
            let a = randomTensor([4, 3], seed: seed).transposed(), b = randomTensor([2, 5, 4], seed: seed &+ 1).transposed()
            checkGradients([a, b], seed: seed, "matmul transposed views", op: { $0[0].matmul($0[1]) },
                           reference: { refMatmul($0[0], [3, 4], $0[1], [2, 4, 5]).values })
        }
    }

    // MARK: linear

    @Test func linearWithAndWithoutBias() {
        for seed in testSeeds {
            for xShape in [[6], [3, 6], [2, 3, 6], [0, 6], [2, 0, 6]] {
                let x = randomTensor(xShape, seed: seed), w = randomTensor([4, 6], seed: seed &+ 1), b = randomTensor([4], seed: seed &+ 2)
                let outShape = Array(xShape.dropLast()) + [4]
                let what = "x \(xShape) seed \(seed)"
                expectClose(x.linear(weight: w), refLinear(values(x), xShape, values(w), [4, 6], nil), shape: outShape,
                            atol: 1e-5, rtol: 1e-5, "linear " + what)
                expectClose(x.linear(weight: w, bias: b), refLinear(values(x), xShape, values(w), [4, 6], values(b)), shape: outShape,
                            atol: 1e-5, rtol: 1e-5, "linear with bias " + what)
                if hasStridedForm(xShape) {
                    expectClose(nonContiguous(x).linear(weight: nonContiguous(w), bias: b),
                                refLinear(values(x), xShape, values(w), [4, 6], values(b)), shape: outShape,
                                atol: 1e-5, rtol: 1e-5, "strided linear " + what)
                }
                checkGradients([x, w, b], seed: seed, "linear " + what, op: { $0[0].linear(weight: $0[1], bias: $0[2]) },
                               reference: { refLinear($0[0], xShape, $0[1], [4, 6], $0[2]) })
                checkGradients([x, w], seed: seed, "linear without bias " + what, op: { $0[0].linear(weight: $0[1]) },
                               reference: { refLinear($0[0], xShape, $0[1], [4, 6], nil) })
            }
        }
    }

    /// in = 0: the output is the bias, and the bias still gets its gradient.
    @Test func linearWithNoInputFeatures() {
        let x = Tensor.zeros([3, 0]), w = Tensor.zeros([2, 0]), b = Tensor([1.5, -2] as [Float])
        expectClose(x.linear(weight: w, bias: b), [1.5, -2, 1.5, -2, 1.5, -2], shape: [3, 2], atol: 0, rtol: 0)
        let (_, g) = valueAndGrad([x, w, b]) { $0[0].linear(weight: $0[1], bias: $0[2]).sum() }
        #expect(g[0].shape == [3, 0] && g[1].shape == [2, 0])
        expectClose(g[2], [3, 3], shape: [2], atol: 0, rtol: 0, "bias gradient")
    }

    // MARK: bfloat16

    @Test func bfloat16MatmulAccumulatesInFloat32() {
        for seed in testSeeds {
            for (sa, sb) in [([3, 4], [4, 5]), ([2, 3, 8], [8, 5]), ([2, 1, 3, 4], [5, 4, 2]), ([7], [7, 3]), ([3, 40], [40])] {
                let a = randomTensor(sa, seed: seed).converted(to: .bfloat16), b = randomTensor(sb, seed: seed &+ 1).converted(to: .bfloat16)
                // the bf16-rounded inputs are the reference's inputs; products of bf16 are exact in
                // float32, so only float32 accumulation error remains
                let (expected, shape) = refMatmul(values(a), sa, values(b), sb)
                let y = a.matmul(b)
                #expect(y.dtype == .float32)
                expectClose(y, expected, shape: shape, atol: 1e-5, rtol: 1e-5, "bf16 \(sa) x \(sb) seed \(seed)")
                if hasStridedForm(sb) {
                    let bt = b.converted(to: .float32).transposed().contiguous().converted(to: .bfloat16).transposed()
                    expectClose(a.matmul(bt), expected, shape: shape, atol: 1e-5, rtol: 1e-5, "bf16 transposed b \(sa) x \(sb)")
                }
            }
            // gradients come back in bf16 (rounded to 8 bits of mantissa)
            let a = randomTensor([3, 4], seed: seed).converted(to: .bfloat16), b = randomTensor([4, 2], seed: seed &+ 3).converted(to: .bfloat16)
            let (_, g) = valueAndGrad([a, b]) { $0[0].matmul($0[1]).sum() }
            #expect(g[0].dtype == .bfloat16 && g[1].dtype == .bfloat16)
            let bv = values(b), av = values(a)
            let dA: [Double] = (0..<12).map { (i: Int) -> Double in bv[(i % 4) * 2] + bv[(i % 4) * 2 + 1] }
            let dB: [Double] = (0..<8).map { (i: Int) -> Double in av[i / 2] + av[4 + i / 2] + av[8 + i / 2] }
            expectClose(g[0], dA, atol: 0, rtol: 8e-3, "bf16 dA")
            expectClose(g[1], dB, atol: 0, rtol: 8e-3, "bf16 dB")
        }
    }

    // MARK: int8

    /// Exact integer reference: Σ_k (a - zero)·b as Double (exactly representable), times the scales.
    static func refQuantized(_ a: [Int], _ zero: Int, _ b: [Int], m: Int, k: Int, n: Int) -> [Double] {
        var acc = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { acc[i * n + j] += Double(a[i * k + p] - zero) * Double(b[p * n + j]) } } }
        return acc
    }

    static func randomInts(_ count: Int, _ range: ClosedRange<Int>, seed: UInt64) -> [Int] {
        let g = Generator(seed: seed)
        return (0..<count).map { _ in range.lowerBound + g.nextInt(below: range.count) }
    }

    struct QuantizedCase { var batch: [Int]; var m, k, n, zero: Int; var perColumn, bias: Bool }
    static let quantizedCases: [QuantizedCase] = [
        QuantizedCase(batch: [], m: 5, k: 37, n: 6, zero: 128, perColumn: true, bias: false),
        QuantizedCase(batch: [2, 3], m: 4, k: 64, n: 3, zero: 3, perColumn: true, bias: true),
        QuantizedCase(batch: [], m: 1, k: 300, n: 17, zero: 0, perColumn: false, bias: true),
        QuantizedCase(batch: [], m: 7, k: 5, n: 1, zero: 255, perColumn: true, bias: false),
        QuantizedCase(batch: [], m: 3, k: 16, n: 2, zero: 0, perColumn: true, bias: false),
    ]

    @Test func quantizedMatmulIsExact() {
        for seed in testSeeds {
            for c in Self.quantizedCases {
                let (batch, m, k, n, zero, perColumn, withBias) = (c.batch, c.m, c.k, c.n, c.zero, c.perColumn, c.bias)
                let rows = batch.reduce(1, *) * m
                let av = Self.randomInts(rows * k, 0...255, seed: seed), bv = Self.randomInts(k * n, -128...127, seed: seed &+ 1)
                let aScale: Float = 0.0173
                let bScales: [Float] = perColumn ? (0..<n).map { 0.001 * Float($0 + 1) + 0.0005 } : [0.0042]
                let a = QuantizedTensor(values: Tensor(av, shape: batch + [m, k], dtype: .uint8), scales: [aScale], zeroPoint: Int32(zero))
                let b = QuantizedTensor(values: Tensor(bv, shape: [k, n], dtype: .int8), scales: bScales, zeroPoint: 0)
                let bias = withBias ? randomTensor([n], seed: seed &+ 2) : nil
                let acc = Self.refQuantized(av, zero, bv, m: rows, k: k, n: n)
                let biasValues = bias.map(values)
                let expected = acc.enumerated().map { i, s in
                    // the kernel folds the two scales into one float32 multiplier
                    Double(aScale * bScales[perColumn ? i % n : 0]) * s + (biasValues?[i % n] ?? 0)
                }
                // the public entry (oneDNN's VNNI/AMX kernels on such CPUs) and the reference kernel
                for (path, y) in [("default", Tensor.quantizedMatmul(a, b, bias: bias)),
                                  ("reference", Tensor.quantizedMatmul(a, b, bias: bias, useOneDNN: false))] {
                    expectClose(y, expected, shape: batch + [m, n], atol: 1e-6, rtol: 3e-7,
                                "int8 \(path) \(batch) m \(m) k \(k) n \(n) zero \(zero) perColumn \(perColumn) bias \(withBias) seed \(seed)")
                }
            }
        }
        // K = 0 and M = 0
        let e = Tensor.quantizedMatmul(QuantizedTensor(values: Tensor.zeros([0, 3], dtype: .uint8), scales: [1], zeroPoint: 0),
                                       QuantizedTensor(values: Tensor.zeros([3, 2], dtype: .int8), scales: [1], zeroPoint: 0))
        #expect(e.shape == [0, 2])
    }

    /// The exact reference kernel used where oneDNN's int8 path would saturate.
    @Test func integerReferenceGemmIsExact() {
        for seed in testSeeds {
            for (m, k, n, zero) in [(3, 5, 4, 7), (1, 200, 9, 255), (6, 1, 1, 0), (2, 33, 16, 128)] {
                let av = Self.randomInts(m * k, 0...255, seed: seed), bv = Self.randomInts(k * n, -128...127, seed: seed &+ 5)
                let a = av.map { UInt8($0) }, b = bv.map { Int8($0) }
                var c = [Int32](repeating: -1, count: m * n)
                omni_gemm_u8s8s32_ref(Int64(m), Int64(n), Int64(k), a, Int32(zero), b, &c)
                #expect(c.map(Double.init) == Self.refQuantized(av, zero, bv, m: m, k: k, n: n), "m \(m) k \(k) n \(n) zero \(zero)")
            }
        }
    }

    /// On a CPU with VNNI/AMX the oneDNN path runs; it must agree exactly with the reference kernel
    /// even where a saturating 16-bit path would overflow (255 · 127 · 2 > 32767).
    @Test(.enabled(if: Tensor.int8IsAccelerated)) func oneDNNInt8PathAgreesWithReferenceKernel() {
        let m = 4, k = 64, n = 8
        let av = [Int](repeating: 255, count: m * k), bv = [Int](repeating: 127, count: k * n)
        let a = QuantizedTensor(values: Tensor(av, shape: [m, k], dtype: .uint8), scales: [1], zeroPoint: 0)
        let b = QuantizedTensor(values: Tensor(bv, shape: [k, n], dtype: .int8), scales: [1], zeroPoint: 0)
        expectClose(Tensor.quantizedMatmul(a, b), [Double](repeating: 255 * 127 * 64, count: m * n), atol: 0, rtol: 0)
    }

    @Test func quantizeRoundTripsWithinHalfAStep() {
        for seed in testSeeds {
            let x = randomTensor([5, 7], seed: seed, low: -0.5, high: 3)
            let qa = QuantizedTensor.quantizeActivations(x)
            expectClose(qa.dequantized(), values(x), atol: Double(qa.scales[0]) / 2 * 1.0001, rtol: 0, "activations")
            let w = randomTensor([7, 4], seed: seed &+ 1)
            let qw = QuantizedTensor.quantizeWeights(w)
            #expect(qw.scales.count == 4)
            let d = values(qw.dequantized()), wv = values(w)
            for i in 0..<28 { #expect(Swift.abs(d[i] - wv[i]) <= Double(qw.scales[i % 4]) / 2 * 1.0001, "weight \(i)") }
            // the quantized product approximates the float one within the rounding of both operands
            let y = Tensor.quantizedMatmul(qa, qw), yf = qa.dequantized().matmul(qw.dequantized())
            expectClose(y, values(yf), atol: 1e-5, rtol: 1e-5, "quantized product = product of dequantized")
        }
    }

    // MARK: primitive cache and copies (in a child process, so that other tests do not add primitives)

    @Test func repeatedShapesReuseCachedPrimitivesAndViewsAreNotCopied() async {
        await #expect(processExitsWith: .success) {
            let a = Tensor.ones([3, 4]), b = Tensor.ones([4, 5])
            let at = Tensor.ones([4, 3]).transposed(), bt = Tensor.ones([5, 4]).transposed()
            let start = omni_dnnl_cache_size()
            for (x, y) in [(a, b), (at, b), (a, bt), (at, bt)] { _ = x.matmul(y) }
            // four layouts, four primitives: had a transposed view been copied to a dense one, it
            // would have reused the dense primitive
            let afterFirst = omni_dnnl_cache_size()
            precondition(afterFirst == start + 4, "expected 4 new primitives, got \(afterFirst - start)")
            for _ in 0..<5 {
                for (x, y) in [(a, b), (at, b), (a, bt), (at, bt)] {
                    let r = x.matmul(y).toArray()
                    precondition(r.allSatisfy { $0 == 4 }, "wrong result \(r)")
                }
                _ = Tensor.ones([2, 3, 4]).matmul(b)   // batch 2: one more primitive, once
                _ = Tensor.ones([6]).linear(weight: Tensor.ones([5, 6]), bias: Tensor.ones([5]))
            }
            precondition(omni_dnnl_cache_size() == afterFirst + 2, "cache grew on repeated calls: \(omni_dnnl_cache_size() - afterFirst) new")
        }
    }

    // MARK: Misuse

    @Test func innerSizeMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4]).matmul(Tensor.zeros([5, 6]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("matmul: inner sizes differ: [2, 3, 4] x [5, 6]"), "stderr was: \(stderr)")
    }

    @Test func vectorInnerSizeMismatchNamesTheGivenShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([3]).matmul(Tensor.zeros([4]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("matmul: inner sizes differ: [3] x [4]"), "stderr was: \(stderr)")
    }

    @Test func batchMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4]).matmul(Tensor.zeros([3, 4, 5]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("matmul: batch axes of [2, 3, 4] and [3, 4, 5] cannot be broadcast together"), "stderr was: \(stderr)")
    }

    @Test func dtypeMismatchNamesBothDtypes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).matmul(Tensor.zeros([3, 2]).converted(to: .bfloat16))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("matmul: operands must both be float32 or both bfloat16, got float32 and bfloat16"), "stderr was: \(stderr)")
    }

    @Test func integerMatmulNamesTheDtype() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor([1, 2, 3, 4], shape: [2, 2]).matmul(Tensor([1, 2, 3, 4], shape: [2, 2]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("got int64 and int64"), "stderr was: \(stderr)")
    }

    @Test func linearShapeMismatchNamesInputAndWeight() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 5]).linear(weight: Tensor.zeros([3, 4]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("linear: input [2, 5] does not match weight [3, 4] ([out, in])"), "stderr was: \(stderr)")
    }

    @Test func linearDtypeMismatchNamesTheDtypes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 4]).linear(weight: Tensor.zeros([3, 4]).converted(to: .bfloat16))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("linear: operands must both be float32 or both bfloat16, got float32 and bfloat16"), "stderr was: \(stderr)")
    }

    @Test func linearBiasDtypeIsChecked() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 4]).linear(weight: Tensor.zeros([3, 4]), bias: Tensor.zeros([3]).converted(to: .bfloat16))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("linear: bias must be float32, got bfloat16"), "stderr was: \(stderr)")
    }

    @Test func quantizedShapeMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.quantizedMatmul(QuantizedTensor(values: Tensor.zeros([2, 3], dtype: .uint8), scales: [1], zeroPoint: 0),
                                       QuantizedTensor(values: Tensor.zeros([4, 2], dtype: .int8), scales: [1], zeroPoint: 0))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("quantizedMatmul: shapes [2, 3] x [4, 2] do not match"), "stderr was: \(stderr)")
    }
}
