// Views and data movement: each op is described in the test by where every output element comes
// from (an index map written with Ref.index / Ref.flat); forward values must match exactly, and
// gradients are checked by central differences of the same map.
import Foundation
import Testing
@testable import OmniTensor

/// Python slice semantics for a positive step: the indices `start..<end` by `step`, with negative
/// bounds counted from the end and everything clamped to `0...n`.
func pythonSlice(_ n: Int, _ start: Int, _ end: Int?, _ step: Int) -> [Int] {
    func clamp(_ i: Int) -> Int { i < 0 ? Swift.max(i + n, 0) : Swift.min(i, n) }
    let s = clamp(start), e = clamp(end ?? n)
    return s < e ? Array(stride(from: s, to: e, by: step)) : []
}

/// Checks a pure data-movement op: `source(outIndex)` is the input multi-index an output element
/// is copied from (nil: the element is `fill`). Forward on dense and two strided layouts, exact;
/// gradients by central differences of the same map.
func checkMovement(_ x: Tensor, _ what: String, outShape: [Int], fill: Double = 0, gradients: Bool = true,
                   op: (Tensor) -> Tensor, source: ([Int]) -> [Int]?,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    let inShape = x.shape
    func reference(_ xv: [Double]) -> [Double] {
        (0..<outShape.reduce(1, *)).map { i in
            source(Ref.index(i, outShape)).map { xv[Ref.flat($0, inShape)] } ?? fill
        }
    }
    let want = reference(values(x))
    var layouts = [("dense", x), ("stride 2", stridedAnyDType(x))]
    if inShape.filter({ $0 != 1 }).count >= 2 { layouts.append(("transposed layout", nonContiguous(x))) }
    for (name, input) in layouts {
        expectClose(op(input), want, shape: outShape, atol: 0, rtol: 0, "\(what), \(name) input", sourceLocation: sourceLocation)
    }
    if gradients {
        checkGradients([stridedAnyDType(x)], what, op: { op($0[0]) }, reference: { reference($0[0]) },
                       sourceLocation: sourceLocation)
    }
}

/// Every permutation of 0..<n.
func permutations(_ n: Int) -> [[Int]] {
    if n == 0 { return [[]] }
    return permutations(n - 1).flatMap { p in (0...p.count).map { i in var q = p; q.insert(n - 1, at: i); return q } }
}

@Suite struct ViewTests {
    // MARK: Reshaping

    @Test func reshaped() {
        for seed in testSeeds {
            let x = randomTensor([2, 3, 4], seed: seed)
            for target in [[6, 4], [4, -1], [-1], [2, 1, 12], [24], [1, 2, 3, 4], [-1, 2, 2]] {
                let known = target.filter { $0 != -1 }.reduce(1, *)
                let shape = target.map { $0 == -1 ? 24 / known : $0 }
                checkMovement(x, "reshaped(\(target))", outShape: shape, op: { $0.reshaped(target) },
                              source: { Ref.index(Ref.flat($0, shape), [2, 3, 4]) })
            }
        }
        let z = Tensor.zeros([0, 3])
        #expect(z.reshaped([3, 0]).shape == [3, 0] && z.reshaped([-1, 3]).shape == [0, 3] && z.reshaped([0]).shape == [0])
        let s = Tensor(Float(5))
        #expect(s.reshaped([1, 1]).shape == [1, 1] && s.reshaped([1, 1]).reshaped([]).item() == 5)
        checkMovement(s, "scalar reshaped", outShape: [1, 1, 1], op: { $0.reshaped([1, -1, 1]) }, source: { _ in [] })
    }

    /// Contiguous input: a view (same storage). Non-contiguous: a copy with the C-order values.
    @Test func reshapeSharesStorageOnlyWhenContiguous() {
        let x = randomTensor([4, 6], seed: 1)
        let v = x.reshaped([2, 12])
        #expect(v.storage === x.storage)
        // a contiguous view with an offset reshapes without copying too
        let row = x.narrowed(axis: 0, start: 2, length: 1)
        let r = row.reshaped([2, 3])
        #expect(r.storage === x.storage)
        expectClose(r, Array(values(x)[12..<18]), shape: [2, 3], atol: 0, rtol: 0, "reshaped offset view")
        let t = x.transposed()
        let c = t.reshaped([24])
        #expect(c.storage !== x.storage && c.isContiguous)
        expectClose(c, (0..<24).map { values(x)[($0 % 4) * 6 + $0 / 4] }, atol: 0, rtol: 0, "reshaped transposed")
        // an expanded (stride-0) input is materialised
        let e = Tensor([1, 2, 3]).expanded(to: [2, 3]).reshaped([6])
        expectClose(e, [1, 2, 3, 1, 2, 3], atol: 0, rtol: 0, "reshaped expanded")
    }

    @Test func flattened() {
        for seed in testSeeds {
            let x = randomTensor([2, 3, 4], seed: seed)
            for (from, to, shape) in [(0, -1, [24]), (1, 2, [2, 12]), (0, 1, [6, 4]), (-2, -1, [2, 12]), (1, 1, [2, 3, 4])] {
                checkMovement(x, "flattened(from: \(from), to: \(to))", outShape: shape, op: { $0.flattened(from: from, to: to) },
                              source: { Ref.index(Ref.flat($0, shape), [2, 3, 4]) })
            }
        }
        #expect(Tensor(Float(2)).flattened().shape == [1])
        #expect(Tensor.zeros([3, 0, 2]).flattened(from: 1).shape == [3, 0])
    }

    @Test func permutedAndTransposed() {
        for seed in testSeeds {
            let x = randomTensor([2, 3, 4], seed: seed)
            for axes in permutations(3) {
                let shape = axes.map { x.shape[$0] }
                checkMovement(x, "permuted(\(axes))", outShape: shape, op: { $0.permuted(axes) }, source: { o in
                    var i = [0, 0, 0]
                    for (k, a) in axes.enumerated() { i[a] = o[k] }
                    return i
                })
                #expect(x.permuted(axes).storage === x.storage)
            }
            checkMovement(x, "permuted negative axes", outShape: [4, 2, 3], op: { $0.permuted([-1, 0, -2]) },
                          source: { [$0[1], $0[2], $0[0]] })
            checkMovement(x, "transposed()", outShape: [2, 4, 3], op: { $0.transposed() }, source: { [$0[0], $0[2], $0[1]] })
            checkMovement(x, "transposed(0, 2)", outShape: [4, 3, 2], op: { $0.transposed(0, 2) }, source: { [$0[2], $0[1], $0[0]] })
            checkMovement(x, "transposed(1, -3)", outShape: [3, 2, 4], op: { $0.transposed(1, -3) }, source: { [$0[1], $0[0], $0[2]] })
        }
        let m = randomTensor([1, 5], seed: 4)
        checkMovement(m, "transposed row", outShape: [5, 1], op: { $0.transposed() }, source: { [$0[1], $0[0]] })
        #expect(Tensor.zeros([0, 3]).transposed().shape == [3, 0])
    }

    @Test func unsqueezedAndSqueezed() {
        for seed in testSeeds {
            let x = randomTensor([3, 4], seed: seed)
            for (axis, shape) in [(0, [1, 3, 4]), (1, [3, 1, 4]), (2, [3, 4, 1]), (-1, [3, 4, 1]), (-3, [1, 3, 4])] {
                checkMovement(x, "unsqueezed(axis: \(axis))", outShape: shape, op: { $0.unsqueezed(axis: axis) },
                              source: { o in var i = o; i.remove(at: shape.firstIndex(of: 1)!); return i })
                #expect(x.unsqueezed(axis: axis).storage === x.storage)
            }
            let y = randomTensor([1, 3, 1, 4, 1], seed: seed)
            for (axis, shape) in [(0, [3, 1, 4, 1]), (2, [1, 3, 4, 1]), (-1, [1, 3, 1, 4])] {
                let a = axis < 0 ? axis + 5 : axis
                checkMovement(y, "squeezed(axis: \(axis))", outShape: shape, op: { $0.squeezed(axis: axis) },
                              source: { o in var i = o; i.insert(0, at: a); return i })
            }
            checkMovement(y, "squeezed()", outShape: [3, 4], op: { $0.squeezed() }, source: { [0, $0[0], 0, $0[1], 0] })
            #expect(y.squeezed().storage === y.storage)
        }
        #expect(Tensor(Float(1)).unsqueezed(axis: 0).shape == [1])
        #expect(Tensor([Float(3)], shape: [1, 1]).squeezed().shape == [])
        #expect(Tensor.zeros([0, 1]).squeezed().shape == [0])
        // unsqueezing a non-contiguous view keeps the values
        let t = randomTensor([3, 4], seed: 5).transposed()
        expectClose(t.unsqueezed(axis: 1).contiguous(), values(t.contiguous()), shape: [4, 1, 3], atol: 0, rtol: 0, "unsqueezed transposed")
    }

    // MARK: Broadcasting

    @Test func expanded() {
        for seed in testSeeds {
            let cases: [([Int], [Int])] = [([3, 1], [2, 3, 4]), ([1], [5]), ([], [2, 2]), ([2, 1, 3], [2, 4, 3]), ([1, 3], [0, 3]), ([2, 3], [2, 3])]
            for (inShape, target) in cases {
                let x = randomTensor(inShape, seed: seed)
                let lead = target.count - inShape.count
                checkMovement(x, "expanded \(inShape) to \(target)", outShape: target, op: { $0.expanded(to: target) }, source: { o in
                    (0..<inShape.count).map { inShape[$0] == 1 ? 0 : o[$0 + lead] }
                })
                #expect(x.expanded(to: target).storage === x.storage, "expanded does not copy")
            }
        }
        #expect(Tensor.broadcastShape([3, 1, 5], [4, 1]) == [3, 4, 5])
        #expect(Tensor.broadcastShape([], [2]) == [2] && Tensor.broadcastShape([0, 1], [1, 7]) == [0, 7])
    }

    // MARK: Slicing

    @Test func sliced() {
        for seed in testSeeds {
            let x = randomTensor([5, 7], seed: seed)
            let cases: [(Int, Int, Int?, Int)] = [
                (1, 0, nil, 1), (1, 1, 6, 2), (1, -3, nil, 1), (1, -100, 100, 3), (1, 2, -1, 2), (0, 4, 2, 1),
                (0, 5, nil, 1), (1, 0, 7, 10), (-1, -2, nil, 1), (0, 1, 4, 1), (1, 6, 7, 1), (-2, 0, 5, 4),
            ]
            for (axis, start, end, step) in cases {
                let a = axis < 0 ? axis + 2 : axis
                let idx = pythonSlice(x.shape[a], start, end, step)
                var shape = x.shape
                shape[a] = idx.count
                let what = "sliced(axis: \(axis), start: \(start), end: \(String(describing: end)), step: \(step))"
                checkMovement(x, what, outShape: shape, op: { $0.sliced(axis: axis, start: start, end: end, step: step) },
                              source: { o in var i = o; i[a] = idx[o[a]]; return i })
                #expect(x.sliced(axis: axis, start: start, end: end, step: step).storage === x.storage)
            }
        }
        #expect(Tensor.zeros([0, 4]).sliced(axis: 0, start: 1).shape == [0, 4])
    }

    @Test func narrowed() {
        for seed in testSeeds {
            let x = randomTensor([4, 5], seed: seed)
            for (axis, start, length) in [(0, 1, 2), (1, 0, 5), (1, 4, 1), (-1, 2, 0), (0, 4, 0)] {
                let a = axis < 0 ? axis + 2 : axis
                var shape = x.shape
                shape[a] = length
                checkMovement(x, "narrowed(axis: \(axis), start: \(start), length: \(length))", outShape: shape,
                              op: { $0.narrowed(axis: axis, start: start, length: length) },
                              source: { o in var i = o; i[a] += start; return i })
                #expect(x.narrowed(axis: axis, start: start, length: length).storage === x.storage)
            }
        }
    }

    @Test func flipped() {
        for seed in testSeeds {
            let x = randomTensor([2, 3, 4], seed: seed)
            for axes in [[0], [1], [2], [0, 2], [-1, -2], [0, 1, 2], []] {
                let norm = axes.map { $0 < 0 ? $0 + 3 : $0 }
                checkMovement(x, "flipped(\(axes))", outShape: [2, 3, 4], op: { $0.flipped(axes: axes) }, source: { o in
                    var i = o
                    for a in norm { i[a] = x.shape[a] - 1 - o[a] }
                    return i
                })
                #expect(x.flipped(axes: axes).storage === x.storage)
            }
        }
        #expect(Tensor.zeros([0, 2]).flipped(axes: [0, 1]).shape == [0, 2])
        // flipping then slicing with a step walks the negative stride
        let v = Tensor((0..<10).map(Float.init)).flipped(axes: [0]).sliced(axis: 0, start: 1, step: 3)
        expectClose(v, [8, 5, 2], atol: 0, rtol: 0, "flip then step")
    }

    @Test func contiguous() {
        for seed in testSeeds {
            let x = randomTensor([3, 4], seed: seed)
            #expect(x.contiguous().storage === x.storage, "contiguous() of a dense tensor is itself")
            let t = x.transposed()
            #expect(!t.isContiguous && t.contiguous().isContiguous)
            checkMovement(x, "transposed().contiguous()", outShape: [4, 3], op: { $0.transposed().contiguous() },
                          source: { [$0[1], $0[0]] })
            checkMovement(x, "flipped stepped contiguous", outShape: [3, 2], op: { $0.flipped(axes: [1]).sliced(axis: 1, step: 2).contiguous() },
                          source: { [$0[0], 3 - 2 * $0[1]] })
        }
        // integer and bool tensors copy too
        let i = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], dtype: .int32).transposed().contiguous()
        #expect(i.dtype == .int32 && i.toIntArray() == [1, 4, 2, 5, 3, 6])
        let b = Tensor([true, false, false, true, true, false], shape: [3, 2]).transposed().contiguous()
        #expect(b.toBoolArray() == [true, false, true, false, true, false])
        // int64 values beyond float32's exact range survive every view and copy
        let big = (0..<12).map { (1 << 40) + $0 }
        let w = Tensor(big, shape: [3, 4]).permuted([1, 0]).flipped(axes: [0]).sliced(axis: 1, start: 1).contiguous()
        var wantW: [Int] = []
        for c in [3, 2, 1, 0] { for r in [1, 2] { wantW.append(big[r * 4 + c]) } }
        #expect(w.dtype == .int64 && w.toIntArray() == wantW)
        let r = Tensor(big, shape: [3, 4]).transposed().reshaped([12])
        let wantR: [Int] = (0..<12).map { (i: Int) -> Int in big[(i % 3) * 4 + i / 3] }
        #expect(r.toIntArray() == wantR)
    }

    /// A chain of views followed by a copy, against the composition of the index maps.
    @Test func chainedViews() {
        for seed in testSeeds {
            let x = randomTensor([4, 3, 5], seed: seed)
            // permute → [5, 4, 3]; slice axis 0 from 1 by 2 → [2, 4, 3]; flip axis 1; narrow axis 2 to 1..<3 → [2, 4, 2]
            checkMovement(x, "chain", outShape: [2, 8], op: {
                $0.permuted([2, 0, 1]).sliced(axis: 0, start: 1, step: 2).flipped(axes: [1]).narrowed(axis: 2, start: 1, length: 2)
                    .reshaped([2, 8])
            }, source: { o in
                let (i0, i1, i2) = (o[0], o[1] / 2, o[1] % 2)
                // undo narrow, flip, slice, permute
                let p = [1 + 2 * i0, 3 - i1, 1 + i2]   // index into the permuted [5, 4, 3]
                return [p[1], p[2], p[0]]
            })
        }
    }

    // MARK: Joining and splitting

    @Test func concatenated() {
        for seed in testSeeds {
            let a = randomTensor([2, 3], seed: seed), b = randomTensor([2, 1], seed: seed + 10), c = randomTensor([2, 0], seed: seed)
            let d = randomTensor([2, 4], seed: seed + 20)
            let parts = [a, b, c, d]
            let sizes = parts.map { $0.shape[1] }
            // output column → (which input, its column)
            let owner = sizes.enumerated().flatMap { k, n in (0..<n).map { (k, $0) } }
            func reference(_ xs: [[Double]]) -> [Double] {
                (0..<16).map { i in
                    let (k, j) = owner[i % 8]
                    return xs[k][(i / 8) * sizes[k] + j]
                }
            }
            for axis in [1, -1] {
                let inputs = [a, stridedAnyDType(b), c, nonContiguous(d)]
                expectClose(Tensor.concatenated(inputs, axis: axis), reference(parts.map(values)), shape: [2, 8], atol: 0, rtol: 0, "concatenated axis \(axis)")
            }
            checkGradients([a, b, c, nonContiguous(d)], "concatenated", op: { Tensor.concatenated($0, axis: 1) }, reference: reference)
            // axis 0
            let e = randomTensor([1, 3], seed: seed + 30)
            expectClose(Tensor.concatenated([a, e, a.flipped(axes: [0])], axis: 0),
                        values(a) + values(e) + Array(values(a)[3...]) + Array(values(a)[..<3]), shape: [5, 3], atol: 0, rtol: 0, "concatenated axis 0")
            checkGradients([a, e], "concatenated axis 0 reusing a", op: { Tensor.concatenated([$0[0], $0[1], $0[0]], axis: 0) },
                           reference: { $0[0] + $0[1] + $0[0] })
        }
        let i = Tensor.concatenated([Tensor([1, 2], dtype: .int8), Tensor([3], dtype: .int8)], axis: 0)
        #expect(i.dtype == .int8 && i.toIntArray() == [1, 2, 3])
        #expect(Tensor.concatenated([Tensor.zeros([0, 2]), Tensor.zeros([0, 2])], axis: 0).shape == [0, 2])
    }

    @Test func stacked() {
        for seed in testSeeds {
            let xs = (0..<3).map { randomTensor([2, 3], seed: seed + UInt64($0)) }
            for axis in [0, 1, 2, -1] {
                let a = axis < 0 ? axis + 3 : axis
                var shape = [2, 3]
                shape.insert(3, at: a)
                let reference: ([[Double]]) -> [Double] = { v in
                    (0..<18).map { i in
                        var idx = Ref.index(i, shape)
                        let k = idx.remove(at: a)
                        return v[k][Ref.flat(idx, [2, 3])]
                    }
                }
                expectClose(Tensor.stacked([xs[0], nonContiguous(xs[1]), xs[2]], axis: axis), reference(xs.map(values)),
                            shape: shape, atol: 0, rtol: 0, "stacked axis \(axis)")
                checkGradients(xs, "stacked axis \(axis)", op: { Tensor.stacked($0, axis: axis) }, reference: reference)
            }
        }
        let s = Tensor.stacked([Tensor(Float(1)), Tensor(Float(2))])
        #expect(s.shape == [2] && s.toArray() == [1, 2])
    }

    @Test func splitAndChunked() {
        for seed in testSeeds {
            let x = randomTensor([3, 7], seed: seed)
            for sizes in [[2, 0, 5], [7], [1, 1, 1, 1, 1, 1, 1]] {
                let pieces = x.split(sizes: sizes, axis: 1)
                #expect(pieces.count == sizes.count && pieces.allSatisfy { $0.storage === x.storage })
                var start = 0
                for (k, len) in sizes.enumerated() {
                    let s0 = start
                    checkMovement(x, "split(\(sizes))[\(k)]", outShape: [3, len], op: { $0.split(sizes: sizes, axis: -1)[k] },
                                  source: { [$0[0], $0[1] + s0] })
                    start += len
                }
            }
            // torch.chunk: pieces of ceil(n / chunks), the last smaller; possibly fewer pieces
            for (chunks, expected) in [(3, [3, 3, 1]), (4, [2, 2, 2, 1]), (7, [1, 1, 1, 1, 1, 1, 1]), (10, [1, 1, 1, 1, 1, 1, 1]), (1, [7])] {
                let pieces = x.chunked(chunks, axis: 1)
                #expect(pieces.map { $0.shape[1] } == expected, "chunked(\(chunks)): \(pieces.map { $0.shape })")
                var start = 0
                for (k, len) in expected.enumerated() {
                    let s0 = start
                    checkMovement(x, "chunked(\(chunks))[\(k)]", outShape: [3, len], gradients: k == expected.count - 1,
                                  op: { $0.chunked(chunks, axis: 1)[k] }, source: { [$0[0], $0[1] + s0] })
                    start += len
                }
            }
            #expect(randomTensor([6, 2], seed: seed).chunked(4, axis: 0).map { $0.shape[0] } == [2, 2, 2])
        }
    }

    @Test func padded() {
        for seed in testSeeds {
            let x = randomTensor([2, 3], seed: seed)
            let cases: [([(before: Int, after: Int)], Float)] = [([(1, 2), (0, 1)], 0), ([(2, 0)], -1.5), ([(0, 0), (3, 3)], 7), ([], 1)]
            for (padding, value) in cases {
                let pads = Array(repeating: (before: 0, after: 0), count: 2 - padding.count) + padding
                let shape = (0..<2).map { x.shape[$0] + pads[$0].before + pads[$0].after }
                checkMovement(x, "padded(\(padding), value: \(value))", outShape: shape, fill: Double(value),
                              op: { $0.padded(padding, value: value) }, source: { o in
                    let i = (0..<2).map { o[$0] - pads[$0].before }
                    return (0..<2).allSatisfy { i[$0] >= 0 && i[$0] < x.shape[$0] } ? i : nil
                })
            }
        }
        let e = Tensor.zeros([0, 2]).padded([(1, 1), (0, 0)], value: 3)
        expectClose(e, [3, 3, 3, 3], shape: [2, 2], atol: 0, rtol: 0, "padding an empty tensor")
    }

    @Test func repeated() {
        for seed in testSeeds {
            let x = randomTensor([2, 3], seed: seed)
            for repeats in [[2, 1], [1, 3], [2, 2, 2], [3, 1, 1], [1, 1], [0, 2]] {
                let lead = repeats.count - 2
                let shape = repeats.enumerated().map { $0.element * ($0.offset < lead ? 1 : x.shape[$0.offset - lead]) }
                checkMovement(x, "repeated(\(repeats))", outShape: shape, op: { $0.repeated(repeats) },
                              source: { o in [o[lead] % 2, o[lead + 1] % 3] })
            }
        }
        let s = Tensor(Float(4)).repeated([3])
        expectClose(s, [4, 4, 4], shape: [3], atol: 0, rtol: 0, "repeating a scalar")
    }

    /// A bfloat16 leaf through views and indexSelect: its gradients keep its dtype (summed in
    /// float32 where a view broadcasts or repeats), so the tolerance is bfloat16's.
    @Test func bfloat16LeavesThroughViews() {
        for seed in testSeeds {
            let x = randomTensor([3, 4], seed: seed).converted(to: .bfloat16)
            checkGradients([x], atol: 2e-2, rtol: 1e-2, "bf16 views", op: { p in
                let v = p[0]
                let a = v.transposed().sliced(axis: 0, start: 1, step: 2)                                   // [2, 3]
                let b = v.expanded(to: [2, 3, 4]).narrowed(axis: 2, start: 0, length: 3).flipped(axes: [1]) // [2, 3, 3]
                let c = v.indexSelect(axis: 1, indices: Tensor([0, 0, 3]))                                   // [3, 3]
                let d = v.unsqueezed(axis: 0).squeezed(axis: 0).permuted([1, 0]).reshaped([12])             // [12]
                return Tensor.concatenated([a.reshaped([-1]), b.reshaped([-1]), c.reshaped([-1]), d], axis: 0).converted(to: .float32)
            }, reference: { v in
                let x = v[0]
                var out: [Double] = []
                for i in 0..<2 { for j in 0..<3 { out.append(x[j * 4 + 1 + 2 * i]) } }
                for _ in 0..<2 { for r in 0..<3 { for col in 0..<3 { out.append(x[(2 - r) * 4 + col]) } } }
                for r in 0..<3 { for j in [0, 0, 3] { out.append(x[r * 4 + j]) } }
                for k in 0..<12 { out.append(x[(k % 3) * 4 + k / 3]) }
                return out
            })
        }
    }

    // MARK: Misuse

    @Test func reshapeMismatchStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).reshaped([4, 2])
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("reshaped: cannot reshape [2, 3] (6 elements) into [4, 2]"), "stderr was: \(e)")
    }

    @Test func reshapeTwoInferredStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).reshaped([-1, -1])
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("reshaped: invalid target shape [-1, -1]"), "stderr was: \(e)")
    }

    @Test func permuteNotAPermutationStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4]).permuted([0, 0, 1])
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("permuted: axes [0, 0, 1] are not a permutation of 0..<3"), "stderr was: \(e)")
    }

    @Test func axisOutOfRangeStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).transposed(0, 2)
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("transposed: axis 2 is out of range for a tensor of rank 2"), "stderr was: \(e)")
    }

    @Test func expandIncompatibleStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).expanded(to: [2, 4])
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("expanded: cannot expand shape [2, 3] to [2, 4]"), "stderr was: \(e)")
    }

    @Test func squeezeNonUnitAxisStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).squeezed(axis: 1)
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("squeezed: axis 1 has size 3, not 1 (shape [2, 3])"), "stderr was: \(e)")
    }

    @Test func narrowOutOfRangeStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).narrowed(axis: 1, start: 2, length: 2)
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("narrowed: range 2..<4 is outside axis 1 of size 3 (shape [2, 3])"), "stderr was: \(e)")
    }

    @Test func sliceNonPositiveStepStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).sliced(axis: 1, step: 0)
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("sliced: step must be positive, got 0"), "stderr was: \(e)")
    }

    @Test func concatenateMismatchStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.concatenated([Tensor.zeros([2, 3]), Tensor.zeros([3, 3])], axis: 1)
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("concatenated: shape [3, 3] does not match [2, 3] outside axis 1"), "stderr was: \(e)")
    }

    @Test func stackMismatchStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.stacked([Tensor.zeros([2, 3]), Tensor.zeros([3, 2])])
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("stacked: shape [3, 2] does not match [2, 3]"), "stderr was: \(e)")
    }

    @Test func splitSizesMismatchStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 5]).split(sizes: [2, 2], axis: 1)
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("split: sizes [2, 2] do not add up to axis 1 of size 5 (shape [2, 5])"), "stderr was: \(e)")
    }

    @Test func negativePaddingStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 5]).padded([(0, -1)])
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("padded: negative padding") && e.contains("axis 1"), "stderr was: \(e)")
    }
}
