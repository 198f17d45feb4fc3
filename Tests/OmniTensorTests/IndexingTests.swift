// Indexing and selection against Float64 references written with explicit index arithmetic.
import Foundation
import Testing
@testable import OmniTensor

/// indexSelect reference: out[..., j..., ...] = x[..., idx[j...] (negative from the end), ...].
func indexSelectReference(_ x: [Double], _ shape: [Int], axis a: Int, _ idx: [Int], idxShape: [Int]) -> [Double] {
    let outShape = Array(shape[..<a]) + idxShape + Array(shape[(a + 1)...])
    let k = idxShape.count
    return (0..<outShape.reduce(1, *)).map { i in
        let o = Ref.index(i, outShape)
        let j = idx[Ref.flat(Array(o[a..<(a + k)]), idxShape)]
        let src = Array(o[..<a]) + [j < 0 ? j + shape[a] : j] + Array(o[(a + k)...])
        return x[Ref.flat(src, shape)]
    }
}

@Suite struct IndexingTests {
    // MARK: indexSelect / embedding

    @Test func indexSelect() {
        for seed in testSeeds {
            let x = randomTensor([4, 5, 3], seed: seed)
            let cases: [(Int, [Int], [Int])] = [
                (0, [3, 0, 0, -1, 2], [5]), (1, [4, -5, 1, 1], [2, 2]), (2, [2], [1]), (-1, [0, 2, 1, 0, -3, 2], [3, 2]),
                (1, [], [0]), (0, [-2], []),
            ]
            for (axis, idx, idxShape) in cases {
                let a = axis < 0 ? axis + 3 : axis
                let outShape = Array(x.shape[..<a]) + idxShape + Array(x.shape[(a + 1)...])
                for dt in [DType.int64, .int32] {
                    let indices = Tensor(idx, shape: idxShape, dtype: dt)
                    for input in [x, nonContiguous(x)] {
                        expectClose(input.indexSelect(axis: axis, indices: indices),
                                    indexSelectReference(values(x), x.shape, axis: a, idx, idxShape: idxShape),
                                    shape: outShape, atol: 0, rtol: 0, "indexSelect axis \(axis) \(idx) \(dt)")
                    }
                }
                // repeated indices accumulate their gradients
                checkGradients([nonContiguous(x)], "indexSelect axis \(axis) \(idx)",
                               op: { $0[0].indexSelect(axis: axis, indices: Tensor(idx, shape: idxShape, dtype: .int32)) },
                               reference: { indexSelectReference($0[0], [4, 5, 3], axis: a, idx, idxShape: idxShape) })
            }
        }
        // non-contiguous index tensors
        let x = randomTensor([6, 2], seed: 9)
        let idx = Tensor([5, 0, 1, 4, 2, 2], shape: [2, 3]).transposed()   // [[5, 4], [0, 2], [1, 2]]
        expectClose(x.indexSelect(axis: 0, indices: idx),
                    indexSelectReference(values(x), [6, 2], axis: 0, [5, 4, 0, 2, 1, 2], idxShape: [3, 2]),
                    shape: [3, 2, 2], atol: 0, rtol: 0, "strided indices")
    }

    /// indexSelect moves elements of any dtype without going through float32.
    @Test func indexSelectOtherDTypes() {
        let big = (0..<12).map { (1 << 40) + 3 * $0 - 7 }
        let i64 = Tensor(big, shape: [4, 3])
        #expect(i64.indexSelect(axis: 0, indices: Tensor([3, -4, 3])).toIntArray()
                == [3, 0, 3].flatMap { r in (0..<3).map { big[r * 3 + $0] } })
        let i8 = Tensor([-128, 5, 127, -1], shape: [2, 2], dtype: .int8)
        let s8 = i8.indexSelect(axis: 1, indices: Tensor([1, 1, 0], dtype: .int32))
        #expect(s8.dtype == .int8 && s8.toIntArray() == [5, 5, -128, -1, -1, 127])
        let b = Tensor([true, false, false, true], shape: [4]).indexSelect(axis: 0, indices: Tensor([3, 1, 0]))
        #expect(b.dtype == .bool && b.toBoolArray() == [true, false, true])
        let h = Tensor([1.5, -2.25, 3.0, 65504]).converted(to: .bfloat16).indexSelect(axis: 0, indices: Tensor([2, 0]))
        #expect(h.dtype == .bfloat16 && h.toArray() == [3, 1.5])
        // any integer dtype can index
        #expect(Tensor([1, 2, 3, 4]).indexSelect(axis: 0, indices: Tensor([3, 0], dtype: .uint8)).toIntArray() == [4, 1])
        #expect(Tensor([1, 2, 3, 4]).indexSelect(axis: 0, indices: Tensor([-1, 0], dtype: .int8)).toIntArray() == [4, 1])
    }

    @Test func embedding() {
        for seed in testSeeds {
            let table = randomTensor([6, 4], seed: seed)
            let ids = [5, 0, 2, 2, -1, 3]
            for dt in [DType.int64, .int32] {
                let out = nonContiguous(table).embedding(Tensor(ids, shape: [2, 3], dtype: dt))
                expectClose(out, indexSelectReference(values(table), [6, 4], axis: 0, ids, idxShape: [2, 3]),
                            shape: [2, 3, 4], atol: 0, rtol: 0, "embedding \(dt)")
            }
            checkGradients([table], "embedding", op: { $0[0].embedding(Tensor(ids, shape: [2, 3])) },
                           reference: { indexSelectReference($0[0], [6, 4], axis: 0, ids, idxShape: [2, 3]) })
        }
    }

    // MARK: gather / scatter-add

    /// out[i][j] = x[i][idx[i][j]] (axis 1) or x[idx[i][j]][j] (axis 0).
    static func gatherReference(_ x: [Double], _ shape: [Int], axis: Int, _ idx: [Int], _ idxShape: [Int]) -> [Double] {
        (0..<idx.count).map { k in
            var o = Ref.index(k, idxShape)
            let j = idx[k]
            o[axis] = j < 0 ? j + shape[axis] : j
            return x[Ref.flat(o, shape)]
        }
    }

    @Test func gathering() {
        for seed in testSeeds {
            let x = randomTensor([3, 4], seed: seed)
            let cases: [(Int, [Int], [Int])] = [
                (1, [0, 3, 3, 1, 1, 1, -1, 2, 0, 0, -4, 3], [3, 4]), (1, [2, 2, 0], [3, 1]), (0, [2, 0, 1, 1, -1, -3, 0, 2], [2, 4]),
                (-1, [3, 0, 1, 2, 3, 0], [3, 2]), (1, [], [3, 0]),
            ]
            for (axis, idx, idxShape) in cases {
                let a = axis < 0 ? axis + 2 : axis
                for dt in [DType.int64, .int32] {
                    let index = Tensor(idx, shape: idxShape, dtype: dt)
                    for input in [x, nonContiguous(x)] {
                        expectClose(input.gathering(axis: axis, index: index), IndexingTests.gatherReference(values(x), [3, 4], axis: a, idx, idxShape),
                                    shape: idxShape, atol: 0, rtol: 0, "gathering axis \(axis) \(idx) \(dt)")
                    }
                }
                checkGradients([x], "gathering axis \(axis)", op: { $0[0].gathering(axis: axis, index: Tensor(idx, shape: idxShape)) },
                               reference: { IndexingTests.gatherReference($0[0], [3, 4], axis: a, idx, idxShape) })
            }
        }
    }

    /// out = x; out[i][idx[i][j]] += src[i][j] along `axis` (repeated indices accumulate).
    static func scatterAddReference(_ x: [Double], _ shape: [Int], axis: Int, _ idx: [Int], _ idxShape: [Int], _ src: [Double]) -> [Double] {
        var out = x
        for k in 0..<idx.count {
            var o = Ref.index(k, idxShape)
            let j = idx[k]
            o[axis] = j < 0 ? j + shape[axis] : j
            out[Ref.flat(o, shape)] += src[k]
        }
        return out
    }

    @Test func scatterAdding() {
        for seed in testSeeds {
            let x = randomTensor([3, 5], seed: seed)
            let cases: [(Int, [Int], [Int])] = [
                (1, [0, 0, 0, 4, 1, -1, 4, 2, 3, 3, 3, 3], [3, 4]), (0, [2, 2, 0, 1, 1, 2, 2, -3, 0, 0], [2, 5]), (-1, [], [3, 0]),
            ]
            for (axis, idx, idxShape) in cases {
                let a = axis < 0 ? axis + 2 : axis
                let src = randomTensor(idxShape, seed: seed + 100)
                for dt in [DType.int64, .int32] {
                    let index = Tensor(idx, shape: idxShape, dtype: dt)
                    expectClose(nonContiguous(x).scatterAdding(axis: axis, index: index, source: idxShape.contains(0) ? src : nonContiguous(src)),
                                IndexingTests.scatterAddReference(values(x), [3, 5], axis: a, idx, idxShape, values(src)),
                                shape: [3, 5], atol: 1e-6, rtol: 1e-6, "scatterAdding axis \(axis) \(dt)")
                }
                checkGradients([x, src], "scatterAdding axis \(axis)",
                               op: { $0[0].scatterAdding(axis: axis, index: Tensor(idx, shape: idxShape), source: $0[1]) },
                               reference: { IndexingTests.scatterAddReference($0[0], [3, 5], axis: a, idx, idxShape, $0[1]) })
            }
            // the input is not modified
            let before = values(x)
            _ = x.scatterAdding(axis: 1, index: Tensor([0, 1, 2], shape: [3, 1]), source: Tensor.ones([3, 1]))
            #expect(values(x) == before)
        }
    }

    // MARK: Masks and selection

    @Test func maskedFill() {
        for seed in testSeeds {
            let x = randomTensor([3, 4], seed: seed)
            let maskValues = [true, false, true]
            let mask = Tensor(maskValues, shape: [3, 1])
            let ref: ([Double]) -> [Double] = { v in (0..<12).map { maskValues[$0 / 4] ? -7.5 : v[$0] } }
            expectClose(nonContiguous(x).maskedFill(mask, -7.5), ref(values(x)), shape: [3, 4], atol: 0, rtol: 0, "maskedFill")
            checkGradients([x], "maskedFill", op: { $0[0].maskedFill(mask, -7.5) }, reference: { ref($0[0]) })
            let full = Tensor((0..<12).map { ($0 * 7 + Int(seed)) % 3 == 0 }, shape: [3, 4])
            let bits = full.toBoolArray()
            expectClose(x.maskedFill(full, .infinity), values(x).enumerated().map { bits[$0.offset] ? .infinity : $0.element },
                        atol: 0, rtol: 0, "maskedFill full mask with inf")
        }
    }

    @Test func whereBroadcastsAllThree() {
        for seed in testSeeds {
            let (sc, sa, sb) = ([2, 1, 4], [3, 1], [2, 3, 1])
            let condValues = (0..<8).map { ($0 * 5 + Int(seed)) % 3 != 0 }
            let cond = Tensor(condValues, shape: sc)
            let a = randomTensor(sa, seed: seed), b = randomTensor(sb, seed: seed + 7)
            let out = [2, 3, 4]
            func pick(_ s: [Int], _ o: [Int]) -> Int {
                let lead = o.count - s.count
                return Ref.flat((0..<s.count).map { s[$0] == 1 ? 0 : o[$0 + lead] }, s)
            }
            let ref: ([[Double]]) -> [Double] = { v in
                (0..<24).map { i in
                    let o = Ref.index(i, out)
                    return condValues[pick(sc, o)] ? v[0][pick(sa, o)] : v[1][pick(sb, o)]
                }
            }
            expectClose(Tensor.where(stridedAnyDType(cond), stridedAnyDType(a), nonContiguous(b)), ref([values(a), values(b)]), shape: out,
                        atol: 0, rtol: 0, "where")
            checkGradients([a, b], "where", op: { Tensor.where(cond, $0[0], $0[1]) }, reference: ref)
            // a scalar on either side
            expectClose(Tensor.where(cond, Tensor(Float(2)), b), (0..<24).map { i in
                let o = Ref.index(i, out)
                return condValues[pick(sc, o)] ? 2 : values(b)[pick(sb, o)]
            }, shape: out, atol: 0, rtol: 0, "where with a scalar")
        }
        #expect(Tensor.where(Tensor([Bool](), shape: [0]), Tensor.zeros([0]), Tensor.ones([1])).shape == [0])
    }

    @Test func logicalOps() {
        let a = [true, false, true, false, true, true], b = [true, true, false]
        let ta = Tensor(a, shape: [2, 3]), tb = Tensor(b, shape: [3])
        for x in [ta, stridedAnyDType(ta)] {
            #expect(x.logicalNot().dtype == .bool && x.logicalNot().toBoolArray() == a.map { !$0 })
            #expect(x.logicalAnd(tb).toBoolArray() == (0..<6).map { a[$0] && b[$0 % 3] })
            #expect(x.logicalOr(tb).toBoolArray() == (0..<6).map { a[$0] || b[$0 % 3] })
            #expect(tb.logicalAnd(x).shape == [2, 3])
        }
        let col = Tensor([false, true], shape: [2, 1])
        #expect(col.logicalOr(tb).toBoolArray() == [true, true, false, true, true, true])
        #expect(Tensor([Bool](), shape: [0]).logicalNot().shape == [0])
    }

    // MARK: Misuse

    @Test func indexOutOfRangeStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([4, 2]).indexSelect(axis: 0, indices: Tensor([1, 4]))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("indexSelect: index 4 is out of range for an axis of size 4"), "stderr was: \(e)")
    }

    @Test func negativeIndexOutOfRangeStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([3, 5]).embedding(Tensor([0, -4], dtype: .int32))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("indexSelect: index -4 is out of range for an axis of size 3"), "stderr was: \(e)")
    }

    @Test func gatherIndexOutOfRangeStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).gathering(axis: 1, index: Tensor([0, 3], shape: [2, 1]))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("gathering: index 3 is out of range for an axis of size 3"), "stderr was: \(e)")
    }

    @Test func scatterIndexOutOfRangeStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).scatterAdding(axis: 0, index: Tensor([0, 0, 2], shape: [1, 3]), source: Tensor.ones([1, 3]))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("scatterAdding: index 2 is out of range for an axis of size 2"), "stderr was: \(e)")
    }

    @Test func floatIndicesStop() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([4, 2]).indexSelect(axis: 0, indices: Tensor([1.0, 2.0]))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("indexSelect: indices must be an integer tensor, got float32"), "stderr was: \(e)")
    }

    @Test func boolIndicesStop() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 2]).gathering(axis: 0, index: Tensor([true, false, true, true], shape: [2, 2]))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("gathering: indices must be an integer tensor, got bool"), "stderr was: \(e)")
    }

    @Test func gatherShapeMismatchStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).gathering(axis: 1, index: Tensor([0, 1, 2], shape: [3, 1]))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("gathering: index of shape [3, 1] does not match [2, 3] off axis 1"), "stderr was: \(e)")
    }

    @Test func whereNonBoolConditionStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.where(Tensor([1, 0]), Tensor.zeros([2]), Tensor.ones([2]))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("where: condition must be bool, got int64"), "stderr was: \(e)")
    }

    @Test func maskedFillMaskTooBigStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([3]).maskedFill(Tensor([true, false, true, false, true, false], shape: [2, 3]), 1)
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("maskedFill: mask of shape [2, 3] does not broadcast to [3]"), "stderr was: \(e)")
    }

    @Test func logicalOnFloatStops() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([3]).logicalNot()
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("logicalNot: needs a bool tensor, got float32"), "stderr was: \(e)")
    }
}
