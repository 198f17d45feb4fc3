// Reductions, scans, softmax and top-k against Float64 references, over every axis set, with
// strided and zero-size inputs, and their gradient rules.
import Foundation
import Testing
@testable import OmniTensor

/// Applies `f` to every line of `x` (C-order values of `shape`) along `axis`; `f` returns
/// `outLength` values (default: the line's length), written back along the same axis.
func alongAxis(_ x: [Double], _ shape: [Int], axis: Int, outLength: Int? = nil, _ f: ([Double]) -> [Double]) -> [Double] {
    let a = axis < 0 ? axis + shape.count : axis
    let n = shape[a], m = outLength ?? n
    let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
    var out = [Double](repeating: 0, count: outer * m * inner)
    for o in 0..<outer {
        for i in 0..<inner {
            let r = f((0..<n).map { x[(o * n + $0) * inner + i] })
            for j in 0..<m { out[(o * m + j) * inner + i] = r[j] }
        }
    }
    return out
}

/// The shape after reducing `axes` (normalised) with or without keeping them.
func reducedShape(_ shape: [Int], _ axes: [Int], keepDims: Bool) -> [Int] {
    keepDims ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
             : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
}

enum RefStats {
    static func sum(_ v: [Double]) -> Double { v.reduce(0, +) }
    static func mean(_ v: [Double]) -> Double { sum(v) / Double(v.count) }
    static func variance(_ v: [Double], unbiased: Bool) -> Double {
        let m = mean(v)
        return v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(unbiased ? v.count - 1 : v.count)
    }
    static func logsumexp(_ v: [Double]) -> Double {
        guard let m = v.max(), m.isFinite else { return v.max() ?? -.infinity }
        return m + Foundation.log(v.reduce(0) { $0 + Foundation.exp($1 - m) })
    }
    static func softmax(_ v: [Double]) -> [Double] {
        let l = logsumexp(v)
        return v.map { Foundation.exp($0 - l) }
    }
    static func logSoftmax(_ v: [Double]) -> [Double] {
        let l = logsumexp(v)
        return v.map { $0 - l }
    }
    static func cumsum(_ v: [Double]) -> [Double] {
        var s = 0.0
        return v.map { s += $0; return s }
    }
    /// Indices of the k largest (or smallest) values, sorted; ties by lower index first.
    static func topK(_ v: [Double], _ k: Int, largest: Bool) -> [Int] {
        Array(v.indices.sorted { i, j in
            v[i] != v[j] ? (largest ? v[i] > v[j] : v[i] < v[j]) : i < j
        }.prefix(k))
    }
}

@Suite struct ReductionTests {
    /// Axis sets over a rank-3 tensor: single axes, negative axes, pairs, all (nil and explicit).
    static let axisSets: [[Int]?] = [nil, [0], [1], [2], [-1], [-2], [0, 2], [2, 0], [-3, -1], [1, 2], [0, 1, 2]]

    static func normalized(_ axes: [Int]?, rank: Int) -> [Int] {
        (axes ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 }.sorted()
    }

    static let shapes: [[Int]] = [[2, 3, 4], [3, 1, 5]]

    // MARK: sum, mean, max, min

    enum Plain: String, CaseIterable, Sendable {
        case sum, mean, max, min
        func apply(_ x: Tensor, _ axes: [Int]?, _ keepDims: Bool) -> Tensor {
            switch self {
            case .sum: return x.sum(axes: axes, keepDims: keepDims)
            case .mean: return x.mean(axes: axes, keepDims: keepDims)
            case .max: return x.max(axes: axes, keepDims: keepDims)
            case .min: return x.min(axes: axes, keepDims: keepDims)
            }
        }
        var reference: ([Double]) -> Double {
            switch self {
            case .sum: return RefStats.sum
            case .mean: return RefStats.mean
            case .max: return { $0.max()! }
            case .min: return { $0.min()! }
            }
        }
    }

    @Test(arguments: Plain.allCases)
    func reducesAnyAxisSet(_ op: Plain) {
        for seed in testSeeds {
            for shape in Self.shapes {
                let x = randomTensor(shape, seed: seed)
                for axes in Self.axisSets {
                    let ax = Self.normalized(axes, rank: shape.count)
                    let expected = Ref.reduce(values(x), shape, axes: ax, op.reference)
                    for keepDims in [false, true] {
                        let outShape = reducedShape(shape, ax, keepDims: keepDims)
                        expectClose(op.apply(x, axes, keepDims), expected, shape: outShape, atol: 1e-6, rtol: 1e-6,
                                    "\(op) \(shape) axes \(String(describing: axes)) keepDims \(keepDims) seed \(seed)")
                        expectClose(op.apply(nonContiguous(x), axes, keepDims), expected, shape: outShape, atol: 1e-6, rtol: 1e-6,
                                    "\(op) strided \(shape) axes \(String(describing: axes)) keepDims \(keepDims) seed \(seed)")
                    }
                }
            }
        }
    }

    /// Long rows and large tensors take the vectorised and multi-threaded paths.
    @Test(arguments: Plain.allCases)
    func reducesLargeTensors(_ op: Plain) {
        let x = randomTensor([37, 1100], seed: 4)
        for axes in [[0], [1], [0, 1]] {
            expectClose(op.apply(x, axes, false), Ref.reduce(values(x), x.shape, axes: axes, op.reference), atol: 1e-4, rtol: 1e-5,
                        "\(op) axes \(axes)")
        }
    }

    @Test func sumAndMeanOfZeroSize() {
        let x = Tensor.zeros([2, 0, 3])
        expectClose(x.sum(axis: 1), [Double](repeating: 0, count: 6), shape: [2, 3], atol: 0, rtol: 0)
        expectClose(x.sum(), [0], shape: [], atol: 0, rtol: 0)
        expectClose(x.sum(axes: [0, 2], keepDims: true), [], shape: [1, 0, 1], atol: 0, rtol: 0)
        expectClose(x.max(axis: 2), [], shape: [2, 0], atol: 0, rtol: 0)
        expectClose(x.mean(axis: 1), [Double](repeating: .nan, count: 6), shape: [2, 3], atol: 0, rtol: 0)
        let (_, g) = valueAndGrad([x]) { $0[0].sum(axis: 2).sum() }
        #expect(g[0].shape == [2, 0, 3])
    }

    @Test func maxAndMinPropagateNaN() {
        let x = Tensor([1, .nan, 3, 4, 5, 6] as [Float], shape: [2, 3])
        expectClose(x.max(axis: 1), [.nan, 6], atol: 0, rtol: 0)
        expectClose(x.min(axis: 0), [1, .nan, 3], atol: 0, rtol: 0)
        expectClose(x.transposed().max(axis: 0), [.nan, 6], atol: 0, rtol: 0)
    }

    @Test(arguments: Plain.allCases)
    func plainGradients(_ op: Plain) {
        for seed in testSeeds {
            let x = randomTensor([2, 3, 4], seed: seed)
            for axes in [nil, [1], [-1], [0, 2]] as [[Int]?] {
                let ax = Self.normalized(axes, rank: 3)
                for keepDims in [false, true] {
                    checkGradients([x], seed: seed, "\(op) axes \(String(describing: axes)) keepDims \(keepDims)",
                                   op: { op.apply($0[0], axes, keepDims) },
                                   reference: { Ref.reduce($0[0], [2, 3, 4], axes: ax, op.reference) })
                }
            }
            checkGradients([nonContiguous(x)], seed: seed, "\(op) strided", op: { op.apply($0[0], [1], false) },
                           reference: { Ref.reduce($0[0], [2, 3, 4], axes: [1], op.reference) })
        }
    }

    /// Tied extremes share the gradient equally (PyTorch's amax/amin).
    @Test func maxAndMinSplitTheGradientAmongTies() {
        let x = Tensor([1, 3, 3, 2, 2, 2, 5, -1, 5] as [Float], shape: [3, 3])
        let (_, gmax) = valueAndGrad([x]) { $0[0].max(axis: 1).sum() }
        expectClose(gmax[0], [0, 0.5, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0.5, 0, 0.5], atol: 1e-7, rtol: 0)
        let (_, gmin) = valueAndGrad([x]) { $0[0].min(axis: 0).sum() }
        expectClose(gmin[0], [1, 0, 0, 0, 0, 1, 0, 1, 0], atol: 0, rtol: 0)
        // all axes: the two 5s tie for the maximum, weighted by a seed of 3
        let (_, gall) = valueAndGrad([x]) { $0[0].max() * 3 }
        expectClose(gall[0], [0, 0, 0, 0, 0, 0, 1.5, 0, 1.5], atol: 0, rtol: 0)
        let (_, gmin2) = valueAndGrad([x]) { ($0[0].min(axes: [1], keepDims: true) * Tensor([1, 2, 3] as [Float], shape: [3, 1])).sum() }
        expectClose(gmin2[0], [1, 0, 0, 2.0 / 3, 2.0 / 3, 2.0 / 3, 0, 3, 0], atol: 1e-7, rtol: 0)
    }

    // MARK: argmax, argmin

    @Test func argmaxAndArgminTakeTheFirstOfTies() {
        for seed in testSeeds {
            // values in {-1, 0, 1}: many ties
            let q = Tensor(values(randomTensor([3, 4, 5], seed: seed, low: -1.5, high: 1.5)).map { $0.rounded() }, shape: [3, 4, 5])
            for axis in [0, 1, 2, -1, -3] {
                let a = axis < 0 ? axis + 3 : axis
                for (isMin, name) in [(false, "argmax"), (true, "argmin")] {
                    let expected = alongAxis(values(q), [3, 4, 5], axis: a, outLength: 1) { line in
                        let best = isMin ? line.min()! : line.max()!
                        return [Double(line.firstIndex(of: best)!)]
                    }
                    for keepDims in [false, true] {
                        var outShape = [3, 4, 5]
                        if keepDims { outShape[a] = 1 } else { outShape.remove(at: a) }
                        for input in [q, nonContiguous(q)] {
                            let got = isMin ? input.argmin(axis: axis, keepDims: keepDims) : input.argmax(axis: axis, keepDims: keepDims)
                            #expect(got.dtype == .int64 && got.shape == outShape, "\(name) axis \(axis): \(got.dtype) \(got.shape)")
                            #expect(got.toIntArray() == expected.map { Int($0) }, "\(name) axis \(axis) keepDims \(keepDims) seed \(seed)")
                        }
                    }
                }
            }
        }
        let n = Tensor([1, .nan, 5, .nan] as [Float])
        #expect(n.argmax(axis: 0).toIntArray() == [1] && n.argmin(axis: 0).toIntArray() == [1])
        #expect(Tensor.zeros([0, 3]).argmax(axis: 1).shape == [0])
    }

    // MARK: variance, standard deviation

    @Test func varianceAndStandardDeviation() {
        for seed in testSeeds {
            let x = randomTensor([3, 4, 5], seed: seed, low: -3, high: 5)
            for axes in [nil, [0], [1], [-1], [0, 2]] as [[Int]?] {
                let ax = Self.normalized(axes, rank: 3)
                for unbiased in [false, true] {
                    let v = Ref.reduce(values(x), [3, 4, 5], axes: ax) { RefStats.variance($0, unbiased: unbiased) }
                    for keepDims in [false, true] {
                        let shape = reducedShape([3, 4, 5], ax, keepDims: keepDims)
                        let what = "axes \(String(describing: axes)) unbiased \(unbiased) keepDims \(keepDims) seed \(seed)"
                        expectClose(x.variance(axes: axes, unbiased: unbiased, keepDims: keepDims), v, shape: shape,
                                    atol: 1e-6, rtol: 2e-6, "variance \(what)")
                        expectClose(nonContiguous(x).standardDeviation(axes: axes, unbiased: unbiased, keepDims: keepDims),
                                    v.map { $0.squareRoot() }, shape: shape, atol: 1e-6, rtol: 2e-6, "std \(what)")
                    }
                    checkGradients([x], seed: seed, "variance axes \(String(describing: axes)) unbiased \(unbiased)",
                                   op: { $0[0].variance(axes: axes, unbiased: unbiased) },
                                   reference: { Ref.reduce($0[0], [3, 4, 5], axes: ax) { RefStats.variance($0, unbiased: unbiased) } })
                    checkGradients([x], seed: seed, "std axes \(String(describing: axes)) unbiased \(unbiased)",
                                   op: { $0[0].standardDeviation(axes: axes, unbiased: unbiased, keepDims: true) },
                                   reference: { Ref.reduce($0[0], [3, 4, 5], axes: ax) { RefStats.variance($0, unbiased: unbiased).squareRoot() } })
                }
            }
        }
        // a large offset must not destroy the result (two-pass, not E[x²] - E[x]²)
        let y = Tensor([10000.5, 10001.5, 10002.5, 10003.5] as [Float])
        expectClose(y.variance(unbiased: false), [1.25], atol: 0, rtol: 1e-6)
    }

    // MARK: logsumexp

    @Test func logsumexpOverAxes() {
        for seed in testSeeds {
            for shape in Self.shapes {
                let x = randomTensor(shape, seed: seed, low: -5, high: 5)
                for axes in Self.axisSets {
                    let ax = Self.normalized(axes, rank: shape.count)
                    let expected = Ref.reduce(values(x), shape, axes: ax, RefStats.logsumexp)
                    for keepDims in [false, true] {
                        let outShape = reducedShape(shape, ax, keepDims: keepDims)
                        let what = "\(shape) axes \(String(describing: axes)) keepDims \(keepDims) seed \(seed)"
                        expectClose(x.logsumexp(axes: axes, keepDims: keepDims), expected, shape: outShape, atol: 1e-6, rtol: 1e-6, what)
                        expectClose(nonContiguous(x).logsumexp(axes: axes, keepDims: keepDims), expected, shape: outShape,
                                    atol: 1e-6, rtol: 1e-6, "strided " + what)
                    }
                }
                for axes in [nil, [1], [0, 2]] as [[Int]?] {
                    let ax = Self.normalized(axes, rank: shape.count)
                    checkGradients([x], seed: seed, "logsumexp \(shape) axes \(String(describing: axes))",
                                   op: { $0[0].logsumexp(axes: axes) },
                                   reference: { Ref.reduce($0[0], shape, axes: ax, RefStats.logsumexp) })
                }
            }
        }
    }

    @Test func logsumexpWithInfinitiesAndLargeValues() {
        let inf = Float.infinity
        let x = Tensor([-inf, -inf, -inf,      // all -inf: -inf
                        -inf, 0, 0,            // log 2
                        1000, 1000, 999,       // no overflow
                        -1000, -1001, -1000,   // no underflow
                        inf, 0, 1,             // +inf
                        .nan, 0, 1] as [Float], shape: [6, 3])
        let expected: [Double] = [-.infinity, Foundation.log(2), 1000 + Foundation.log(2 + Foundation.exp(-1)),
                                  -1000 + Foundation.log(2 + Foundation.exp(-1)), .infinity, .nan]
        expectClose(x.logsumexp(axis: 1), expected, atol: 0, rtol: 1e-7)
        expectClose(x.transposed().logsumexp(axis: 0), expected, atol: 0, rtol: 1e-7, "strided, inner > 1")
        // the gradient is the softmax; -inf entries get 0. The rule is exp(x - r) (as PyTorch's), so
        // at |x| ~ 1000 the float32 rounding of r (ulp 6e-5) shows up in it: rtol 1e-4 there.
        let y = Tensor([-inf, 0, 0, 1000, 1000, 999] as [Float], shape: [2, 3])
        let (_, g) = valueAndGrad([y]) { $0[0].logsumexp(axis: 1).sum() }
        let e = Foundation.exp(-1.0)
        expectClose(g[0], [0, 0.5, 0.5, 1 / (2 + e), 1 / (2 + e), e / (2 + e)], atol: 1e-7, rtol: 1e-4)
        expectClose(Tensor.zeros([2, 0]).logsumexp(axis: 1), [-.infinity, -.infinity], shape: [2], atol: 0, rtol: 0)
    }

    // MARK: softmax, logSoftmax

    @Test func softmaxAndLogSoftmaxOnEveryAxis() {
        for seed in testSeeds {
            for shape in [[2, 3, 4], [3, 1, 5], [4, 6]] {
                let x = randomTensor(shape, seed: seed, low: -6, high: 6)
                for axis in Array(-shape.count..<shape.count) {
                    let sm = alongAxis(values(x), shape, axis: axis, RefStats.softmax)
                    let lsm = alongAxis(values(x), shape, axis: axis, RefStats.logSoftmax)
                    let what = "\(shape) axis \(axis) seed \(seed)"
                    expectClose(x.softmax(axis: axis), sm, shape: shape, atol: 1e-7, rtol: 2e-6, "softmax " + what)
                    expectClose(x.logSoftmax(axis: axis), lsm, shape: shape, atol: 1e-6, rtol: 1e-6, "logSoftmax " + what)
                    expectClose(nonContiguous(x).softmax(axis: axis), sm, shape: shape, atol: 1e-7, rtol: 2e-6, "strided softmax " + what)
                    expectClose(nonContiguous(x).logSoftmax(axis: axis), lsm, shape: shape, atol: 1e-6, rtol: 1e-6, "strided logSoftmax " + what)
                    checkGradients([x], seed: seed, "softmax " + what, op: { $0[0].softmax(axis: axis) },
                                   reference: { alongAxis($0[0], shape, axis: axis, RefStats.softmax) })
                    checkGradients([x], seed: seed, "logSoftmax " + what, op: { $0[0].logSoftmax(axis: axis) },
                                   reference: { alongAxis($0[0], shape, axis: axis, RefStats.logSoftmax) })
                }
            }
        }
    }

    /// Large logits, masked (-inf) entries, fully masked lines (NaN, as PyTorch), both kernel paths
    /// (last axis and a middle axis).
    @Test func softmaxWithLargeAndMaskedValues() {
        let inf = Float.infinity
        let rows: [[Float]] = [[1000, 999, 998, -1000], [-inf, 0, 1, -inf], [-inf, -inf, -inf, -inf], [-1000, -1000, -1001, -1002],
                               [88, 89, 90, 0]]
        let x = Tensor(rows.flatMap { $0 }, shape: [5, 4])
        var sm: [Double] = [], lsm: [Double] = []
        for r in rows {
            let d = r.map(Double.init)
            if d.allSatisfy({ $0 == -.infinity }) {
                sm += [Double](repeating: .nan, count: 4); lsm += [Double](repeating: .nan, count: 4)
            } else {
                sm += RefStats.softmax(d); lsm += RefStats.logSoftmax(d)
            }
        }
        expectClose(x.softmax(axis: 1), sm, atol: 1e-7, rtol: 2e-6, "softmax rows")
        expectClose(x.logSoftmax(axis: 1), lsm, atol: 1e-6, rtol: 1e-6, "logSoftmax rows")
        // the same lines along the middle axis of [5, 4, 2] (inner > 1 path)
        let mid = x.unsqueezed(axis: 2).expanded(to: [5, 4, 2]).contiguous()
        let twice = { (v: [Double]) in v.flatMap { [$0, $0] } }
        expectClose(mid.softmax(axis: 1), twice(sm), atol: 1e-7, rtol: 2e-6, "softmax middle axis")
        expectClose(mid.logSoftmax(axis: 1), twice(lsm), atol: 1e-6, rtol: 1e-6, "logSoftmax middle axis")
        #expect(Tensor.zeros([2, 0]).softmax().shape == [2, 0] && Tensor.zeros([0, 3]).logSoftmax(axis: 0).shape == [0, 3])
    }

    @Test func softmaxOnLargeTensor() {
        let x = randomTensor([40, 1000], seed: 8, low: -10, high: 10)
        expectClose(x.softmax(), alongAxis(values(x), x.shape, axis: 1, RefStats.softmax), atol: 1e-8, rtol: 5e-6)
        expectClose(x.softmax(axis: 0), alongAxis(values(x), x.shape, axis: 0, RefStats.softmax), atol: 1e-8, rtol: 5e-6)
    }

    // MARK: cumsum

    @Test func cumsumOnEveryAxis() {
        for seed in testSeeds {
            for shape in [[2, 3, 4], [5], [3, 1, 2]] {
                let x = randomTensor(shape, seed: seed)
                for axis in Array(-shape.count..<shape.count) {
                    let expected = alongAxis(values(x), shape, axis: axis, RefStats.cumsum)
                    let what = "\(shape) axis \(axis) seed \(seed)"
                    expectClose(x.cumsum(axis: axis), expected, shape: shape, atol: 1e-6, rtol: 1e-6, what)
                    if hasStridedForm(shape) {
                        expectClose(nonContiguous(x).cumsum(axis: axis), expected, shape: shape, atol: 1e-6, rtol: 1e-6, "strided " + what)
                    }
                    checkGradients([x], seed: seed, "cumsum " + what, op: { $0[0].cumsum(axis: axis) },
                                   reference: { alongAxis($0[0], shape, axis: axis, RefStats.cumsum) })
                }
            }
        }
        #expect(Tensor.zeros([2, 0]).cumsum(axis: 1).shape == [2, 0])
        #expect(Tensor.zeros([0, 2]).cumsum(axis: 1).shape == [0, 2])
    }

    // MARK: topK

    @Test func topKOnEveryAxisWithTies() {
        for seed in testSeeds {
            let shape = [3, 5, 4]
            // half the values from a small set (ties), half continuous
            let cont = randomTensor(shape, seed: seed)
            let v = values(cont).enumerated().map { $0.offset % 2 == 0 ? ($0.element * 2).rounded() / 2 : $0.element }
            let x = Tensor(v, shape: shape)
            for axis in [0, 1, 2, -1, -2] {
                let a = axis < 0 ? axis + 3 : axis
                for largest in [true, false] {
                    for k in [0, 1, 3, shape[a]] {
                        let idx = alongAxis(v, shape, axis: a, outLength: k) { RefStats.topK($0, k, largest: largest).map(Double.init) }
                        let vals = alongAxis(v, shape, axis: a, outLength: k) { line in RefStats.topK(line, k, largest: largest).map { line[$0] } }
                        var outShape = shape; outShape[a] = k
                        for input in [x, nonContiguous(x)] {
                            let (values, indices) = input.topK(k, axis: axis, largest: largest)
                            let what = "axis \(axis) k \(k) largest \(largest) seed \(seed)"
                            expectClose(values, vals, shape: outShape, atol: 0, rtol: 0, "topK values " + what)
                            #expect(indices.dtype == .int64 && indices.shape == outShape, "topK indices \(what)")
                            #expect(indices.toIntArray() == idx.map { Int($0) }, "topK indices \(what)")
                        }
                        if k > 0 {
                            checkGradients([cont], seed: seed, "topK axis \(axis) k \(k) largest \(largest)",
                                           op: { $0[0].topK(k, axis: axis, largest: largest).values },
                                           reference: { alongAxis($0[0], shape, axis: a, outLength: k) { line in
                                               RefStats.topK(line, k, largest: largest).map { line[$0] } } })
                        }
                    }
                }
            }
        }
        let n = Tensor([1, .nan, 3, 2] as [Float])
        #expect(n.topK(2).indices.toIntArray() == [1, 2], "NaN counts as the largest")
        let (vz, iz) = Tensor.zeros([0, 4]).topK(2)
        #expect(vz.shape == [0, 2] && iz.shape == [0, 2])
    }

    /// Tied values selected by topK each get their own gradient.
    @Test func topKGradientGoesToTheSelectedElements() {
        let x = Tensor([2, 5, 5, 1, 5] as [Float])
        let (_, g) = valueAndGrad([x]) { ($0[0].topK(2).values * Tensor([10, 1] as [Float])).sum() }
        expectClose(g[0], [0, 10, 1, 0, 0], atol: 0, rtol: 0)
    }

    // MARK: Misuse

    @Test func emptyAxisMaxNamesAxisAndShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 0]).max(axis: 1)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("max: cannot reduce empty axis 1 of shape [2, 0]"), "stderr was: \(stderr)")
    }

    @Test func axisOutOfRangeNamesTheAxis() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).sum(axes: [0, -3])
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("sum: axis -3 is out of range for a tensor of rank 2"), "stderr was: \(stderr)")
    }

    @Test func repeatedAxisIsRejected() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).mean(axes: [1, -1])
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("mean: repeated axis in [1, -1]"), "stderr was: \(stderr)")
    }

    @Test func topKBeyondTheAxisNamesShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).topK(4, axis: 1)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("topK: k = 4 is outside 0...3 for axis 1 of shape [2, 3]"), "stderr was: \(stderr)")
    }

    @Test func integerSoftmaxNamesTheDtype() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor([1, 2, 3]).softmax()
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("softmax: needs a float32 tensor, got int64 with shape [3]"), "stderr was: \(stderr)")
    }
}
