// Shared test helpers: Float64 references, comparison with the largest difference reported,
// and the Float64 central-difference gradient check every gradient rule goes through.
import Foundation
import Testing
@testable import OmniTensor

/// The seeds every randomized test runs with.
let testSeeds: [UInt64] = [1, 2, 3]

/// Random float32 values in C order as Double, plus the tensor holding them.
func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -2, high: Float = 2) -> Tensor {
    Tensor.uniform(shape, low: low, high: high, generator: Generator(seed: seed &* 7919 &+ UInt64(shape.reduce(1, *))))
}

/// The values of `t` in C order, widened to Double.
func values(_ t: Tensor) -> [Double] { t.toArray().map(Double.init) }

/// A non-contiguous view holding the same logical values as `t`, so kernels see real strides:
/// the axes reversed in memory (a transposed layout) where that is not contiguous, otherwise the
/// first axis longer than 1 stored at every second position. A tensor with at most one element
/// has no non-contiguous layout and is returned as it is.
func nonContiguous(_ t: Tensor) -> Tensor {
    if t.rank >= 2 {
        let rev = Array((0..<t.rank).reversed())
        let view = t.permuted(rev).contiguous().permuted(rev)
        if !view.isContiguous { return view }
    }
    guard let a = t.shape.firstIndex(where: { $0 > 1 }) else { return t }
    var doubled = t.shape
    doubled[a] *= 2
    // [..., n, 2, ...] with the values at [..., i, 0, ...] and NaN beside them, seen with step 2
    let interleaved = Tensor.stacked([t.detached(), Tensor.full(t.shape, .nan)], axis: a + 1).reshaped(doubled)
    let view = interleaved.sliced(axis: a, start: 0, step: 2)
    #expect(!view.isContiguous)
    return view
}

/// Compares `actual` with a Float64 reference; the failure names the largest difference and where.
func expectClose(_ actual: Tensor, _ expected: [Double], shape: [Int]? = nil, atol: Double = 1e-5, rtol: Double = 1e-4,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    if let shape {
        #expect(actual.shape == shape, "\(what): shape \(actual.shape) != expected \(shape)", sourceLocation: sourceLocation)
    }
    let got = values(actual)
    guard got.count == expected.count else {
        Issue.record("\(what): \(got.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var worst = 0.0, worstIndex = -1
    for i in 0..<got.count {
        let (a, e) = (got[i], expected[i])
        if a.isNaN && e.isNaN { continue }
        if a == e { continue }  // covers matching infinities
        let excess = Swift.abs(a - e) - (atol + rtol * Swift.abs(e))
        if !(excess <= 0) && (worstIndex < 0 || Swift.abs(a - e) > worst || a.isNaN) {
            worst = Swift.abs(a - e); worstIndex = i
        }
    }
    if worstIndex >= 0 {
        Issue.record("\(what): largest difference \(worst) at flat index \(worstIndex) (got \(got[worstIndex]), expected \(expected[worstIndex])); atol \(atol), rtol \(rtol)",
                     sourceLocation: sourceLocation)
    }
}

/// Checks the gradient rules behind `op` against Float64 central differences of `reference`.
///
/// The scalar objective is `Σ op(inputs) · w` for a fixed random `w`, so every output element's
/// gradient path is exercised. `reference` gets each input's values in C order (as Double) and
/// returns the output's values in C order. Inputs listed in `constant` are not differentiated.
func checkGradients(_ inputs: [Tensor], constant: Set<Int> = [], eps: Double = 1e-6, atol: Double = 1e-4, rtol: Double = 1e-3,
                    seed: UInt64 = 99, _ what: String = "",
                    op: ([Tensor]) -> Tensor, reference: ([[Double]]) -> [Double],
                    sourceLocation: SourceLocation = #_sourceLocation) {
    let out = op(inputs)
    let w = Tensor.uniform(out.shape, low: -1, high: 1, generator: Generator(seed: seed))
    let wd = values(w)
    // analytic
    let leaves = inputs.enumerated().map { constant.contains($0.offset) ? $0.element : $0.element.detached().requiringGrad() }
    let y = (op(leaves) * w).sum()
    y.backward()
    // numeric (Float64)
    var xs = inputs.map(values)
    func objective() -> Double {
        let r = reference(xs)
        precondition(r.count == wd.count, "reference returned \(r.count) values for an output of \(wd.count)")
        var s = 0.0
        for i in 0..<r.count { s += r[i] * wd[i] }
        return s
    }
    for (k, leaf) in leaves.enumerated() where !constant.contains(k) {
        guard let g = leaf.grad else {
            Issue.record("\(what): input \(k) received no gradient", sourceLocation: sourceLocation)
            continue
        }
        #expect(g.shape == inputs[k].shape, "\(what): gradient shape \(g.shape) for input \(k) of shape \(inputs[k].shape)", sourceLocation: sourceLocation)
        var numeric = [Double](repeating: 0, count: xs[k].count)
        for i in 0..<xs[k].count {
            let x0 = xs[k][i]
            let h = eps * Swift.max(1, Swift.abs(x0))
            xs[k][i] = x0 + h; let fp = objective()
            xs[k][i] = x0 - h; let fm = objective()
            xs[k][i] = x0
            numeric[i] = (fp - fm) / (2 * h)
        }
        expectClose(g, numeric, atol: atol, rtol: rtol, "\(what) gradient of input \(k)", sourceLocation: sourceLocation)
    }
}

/// Float64 reference helpers for shapes in C order.
enum Ref {
    static func strides(_ shape: [Int]) -> [Int] { Tensor.denseStrides(shape) }
    /// Multi-index of flat position `i`.
    static func index(_ i: Int, _ shape: [Int]) -> [Int] {
        var r = [Int](repeating: 0, count: shape.count), rem = i
        for d in stride(from: shape.count - 1, through: 0, by: -1) { r[d] = rem % shape[d]; rem /= shape[d] }
        return r
    }
    static func flat(_ idx: [Int], _ shape: [Int]) -> Int {
        var f = 0
        for d in 0..<shape.count { f = f * shape[d] + idx[d] }
        return f
    }
    /// NumPy broadcast of `a` (shape `sa`) and `b` (shape `sb`) through `f`.
    static func broadcast(_ a: [Double], _ sa: [Int], _ b: [Double], _ sb: [Int], _ f: (Double, Double) -> Double) -> [Double] {
        let out = Tensor.broadcastShape(sa, sb)
        let n = out.reduce(1, *)
        return (0..<n).map { i in
            let idx = index(i, out)
            func pick(_ s: [Int]) -> Int {
                let lead = out.count - s.count
                return flat((0..<s.count).map { s[$0] == 1 ? 0 : idx[$0 + lead] }, s)
            }
            return f(a[pick(sa)], b[pick(sb)])
        }
    }
    /// Reduces `x` (shape `s`) over `axes` with `f` applied to each group of values (in order).
    static func reduce(_ x: [Double], _ s: [Int], axes: [Int], _ f: ([Double]) -> Double) -> [Double] {
        let outShape = s.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        var groups = [[Double]](repeating: [], count: outShape.reduce(1, *))
        for i in 0..<x.count {
            var idx = index(i, s)
            for a in axes { idx[a] = 0 }
            groups[flat(idx, outShape)].append(x[i])
        }
        return groups.map(f)
    }
    static func matmul(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { var s = 0.0; for p in 0..<k { s += a[i * k + p] * b[p * n + j] }; c[i * n + j] = s } }
        return c
    }
}
