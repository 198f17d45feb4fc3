import COmniKernels

extension Tensor {
    /// Dense int64 indices, each checked to lie in [-n, n) (negative values count from the end).
    func checkedIndices(_ n: Int, op: String) -> Tensor {
        check(!dtype.isFloatingPoint && dtype != .bool, op, "indices must be an integer tensor, got \(dtype)")
        let idx = converted(to: .int64).contiguous()
        let p = idx.rawPointer.assumingMemoryBound(to: Int64.self)
        var fixed: Tensor? = nil
        for i in 0..<idx.count {
            let v = Int(p[i])
            check(v >= -n && v < n, op, "index \(v) is out of range for an axis of size \(n)")
            if v < 0 {
                if fixed == nil { fixed = idx.copyDense() }
                fixed!.rawPointer.assumingMemoryBound(to: Int64.self)[i] = Int64(v + n)
            }
        }
        // Index tensors are immutable like every tensor, so the checked view is used as it is.
        return fixed ?? idx
    }

    /// A fresh dense copy (for kernels that write into their output in place), from any layout.
    func copyDense() -> Tensor {
        let t = Tensor(uninitializedShape: shape, dtype: dtype)
        Tensor.copyElements(from: self, into: t)
        return t
    }

    /// The slices at `indices` along `axis`: result shape is shape with axis replaced by indices.shape.
    ///
    /// Works for any dtype; gradients (float32) are scattered back with index-add.
    public func indexSelect(axis: Int, indices: Tensor) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: "indexSelect")
        let idx = indices.checkedIndices(shape[a], op: "indexSelect")
        let (c, outer, n, inner) = splitAround(a)
        let nidx = idx.count
        let out = Tensor(uninitializedShape: Array(shape[..<a]) + [nidx] + Array(shape[(a + 1)...]), dtype: dtype)
        if out.count > 0 {
            omni_index_select(Int32(dtype.size), Int64(outer), Int64(n), Int64(inner), c.rawPointer,
                              idx.rawPointer.assumingMemoryBound(to: Int64.self), Int64(nidx), out.rawPointer)
        }
        let result = out.reshaped(Array(shape[..<a]) + indices.shape + Array(shape[(a + 1)...]))
        let inShape = shape, inDType = dtype
        return Tensor.record(result, op: "indexSelect", inputs: [self]) { g in
            // accumulate in float32, and give a bfloat16/float16 table a gradient of its dtype
            let z = Tensor.zeros(inShape)
            let gs = g.converted(to: .float32).contiguous()
            if gs.count > 0 {
                omni_index_add_f32(Int64(outer), Int64(n), Int64(inner), z.floatPointer,
                                   idx.rawPointer.assumingMemoryBound(to: Int64.self), Int64(nidx), gs.floatPointer)
            }
            return [z.converted(to: inDType)]
        }
    }

    /// Embedding lookup: rows of this [vocab, dim] table for integer `ids` of any shape → [..., dim].
    public func embedding(_ ids: Tensor) -> Tensor {
        check(rank == 2, "embedding", "the table must be [vocab, dim], got \(fmt(shape))")
        return indexSelect(axis: 0, indices: ids)
    }

    /// `out[i][j][k] = self[i][index[i][j][k]][k]` for axis 1, and likewise for any axis
    /// (`torch.gather`). `index` has the rank of self and, off `axis`, the same sizes.
    public func gathering(axis: Int, index: Tensor) -> Tensor {
        requireFloat32("gathering")
        let a = normalizeAxis(axis, rank: rank, op: "gathering")
        check(index.rank == rank && (0..<rank).allSatisfy { $0 == a || index.shape[$0] == shape[$0] }, "gathering",
              "index of shape \(fmt(index.shape)) does not match \(fmt(shape)) off axis \(axis)")
        let idx = index.checkedIndices(shape[a], op: "gathering")
        let (c, outer, n, inner) = splitAround(a)
        let out = Tensor(uninitializedShape: index.shape)
        if out.count > 0 {
            omni_gather_f32(Int64(outer), Int64(n), Int64(inner), c.floatPointer, Int64(index.shape[a]),
                            idx.rawPointer.assumingMemoryBound(to: Int64.self), out.floatPointer)
        }
        let inShape = shape
        return Tensor.record(out, op: "gathering", inputs: [self]) { g in
            [Tensor.zeros(inShape).scatterAdding(axis: a, index: idx, source: g)]
        }
    }

    /// A copy of self with `source` added at `index` along `axis` (`torch.scatter_add`);
    /// repeated indices accumulate. Gradients flow to self (identity) and to source (gather).
    public func scatterAdding(axis: Int, index: Tensor, source: Tensor) -> Tensor {
        requireFloat32("scatterAdding"); source.requireFloat32("scatterAdding")
        let a = normalizeAxis(axis, rank: rank, op: "scatterAdding")
        check(index.shape == source.shape, "scatterAdding", "index shape \(fmt(index.shape)) differs from source shape \(fmt(source.shape))")
        check(index.rank == rank && (0..<rank).allSatisfy { $0 == a || index.shape[$0] == shape[$0] }, "scatterAdding",
              "index of shape \(fmt(index.shape)) does not match \(fmt(shape)) off axis \(axis)")
        let idx = index.checkedIndices(shape[a], op: "scatterAdding")
        let out = detached().copyDense()   // scatter-add writes into it; one copy from any layout
        let src = source.contiguous()
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        if src.count > 0 {
            omni_scatter_add_f32(Int64(outer), Int64(shape[a]), Int64(inner), out.floatPointer, Int64(index.shape[a]),
                                 idx.rawPointer.assumingMemoryBound(to: Int64.self), src.floatPointer)
        }
        return Tensor.record(out, op: "scatterAdding", inputs: [self, source]) { g in
            [g, g.gathering(axis: a, index: idx)]
        }
    }
}
