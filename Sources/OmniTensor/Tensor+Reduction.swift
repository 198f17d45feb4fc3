import COmniKernels

enum ReduceOp: Int32 { case sum, max, min, logsumexp, prod }

extension Tensor {
    /// Views self as dense [outer, n, inner] around `axis` (copying if needed).
    func splitAround(_ axis: Int) -> (Tensor, Int, Int, Int) {
        let c = contiguous()
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        return (c, outer, shape[axis], inner)
    }

    /// Reduce one axis with a kernel (no autograd); keeps the axis with size 1.
    func reduceAxisRaw(_ op: ReduceOp, _ axis: Int) -> Tensor {
        let (c, outer, n, inner) = splitAround(axis)
        var outShape = shape
        outShape[axis] = 1
        if n == 0 {
            let identity: Float = op == .sum ? 0 : (op == .prod ? 1 : (op == .max || op == .logsumexp ? -.infinity : .infinity))
            check(op == .sum || op == .prod || op == .logsumexp, "reduce", "cannot take \(op) over empty axis \(axis) of shape \(fmt(shape))")
            return Tensor.full(outShape, identity)
        }
        let out = Tensor(uninitializedShape: outShape)
        if out.count > 0 { omni_reduce_f32(op.rawValue, Int64(outer), Int64(n), Int64(inner), c.floatPointer, out.floatPointer) }
        return out
    }

    func normalizedAxes(_ axes: [Int]?, op: String) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let norm = axes.map { normalizeAxis($0, rank: rank, op: op) }
        check(Set(norm).count == norm.count, op, "repeated axis in \(axes)")
        return norm.sorted()
    }

    func dropAxes(_ t: Tensor, _ axes: [Int], keepDims: Bool) -> Tensor {
        if keepDims { return t }
        return t.reshaped(t.shape.enumerated().filter { !axes.contains($0.offset) }.map { $0.element })
    }

    /// Sum over `axes` (all when nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        requireFloat32("sum")
        let ax = normalizedAxes(axes, op: "sum")
        var r = self.detached()
        for a in ax { r = r.reduceAxisRaw(.sum, a) }
        let inShape = shape
        let out = Tensor.record(r, op: "sum", inputs: [self]) { g in [g.expanded(to: inShape).contiguous()] }
        return dropAxes(out, ax, keepDims: keepDims)
    }

    /// Sum over one axis.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = normalizedAxes(axes, op: "mean")
        let n = ax.reduce(1) { $0 * shape[$1] }
        return sum(axes: ax, keepDims: keepDims) * (1 / Float(n))
    }

    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Variance over `axes`; `unbiased` divides by n − 1 (Bessel's correction).
    public func variance(axes: [Int]? = nil, unbiased: Bool = true, keepDims: Bool = false) -> Tensor {
        let ax = normalizedAxes(axes, op: "variance")
        let n = ax.reduce(1) { $0 * shape[$1] }
        let centered = self - mean(axes: ax, keepDims: true)
        return centered.square().sum(axes: ax, keepDims: keepDims) * (1 / Float(unbiased ? n - 1 : n))
    }

    /// Standard deviation over `axes`.
    public func standardDeviation(axes: [Int]? = nil, unbiased: Bool = true, keepDims: Bool = false) -> Tensor {
        variance(axes: axes, unbiased: unbiased, keepDims: keepDims).sqrt()
    }

    /// Max or min over `axes`; the gradient is shared equally among tied maxima (as PyTorch's amax).
    func extremum(_ op: ReduceOp, _ name: String, axes: [Int]?, keepDims: Bool) -> Tensor {
        requireFloat32(name)
        let ax = normalizedAxes(axes, op: name)
        var r = self.detached()
        for a in ax {
            check(shape[a] > 0, name, "cannot reduce empty axis \(a) of shape \(fmt(shape))")
            r = r.reduceAxisRaw(op, a)
        }
        let x = self.detached()
        let out = Tensor.record(r, op: name, inputs: [self]) { g in
            let mask = x.compared(.equal, r).converted(to: .float32)
            let ties = mask.sum(axes: ax, keepDims: true)
            return [g * mask / ties]
        }
        return dropAxes(out, ax, keepDims: keepDims)
    }

    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { extremum(.max, "max", axes: axes, keepDims: keepDims) }
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { extremum(.min, "min", axes: axes, keepDims: keepDims) }
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { max(axes: [axis], keepDims: keepDims) }
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { min(axes: [axis], keepDims: keepDims) }

    /// Index of the largest value along `axis` (first on ties) as int64.
    public func argmax(axis: Int, keepDims: Bool = false) -> Tensor { argReduce(isMin: false, axis: axis, keepDims: keepDims) }
    /// Index of the smallest value along `axis` (first on ties) as int64.
    public func argmin(axis: Int, keepDims: Bool = false) -> Tensor { argReduce(isMin: true, axis: axis, keepDims: keepDims) }

    func argReduce(isMin: Bool, axis: Int, keepDims: Bool) -> Tensor {
        requireFloat32(isMin ? "argmin" : "argmax")
        let a = normalizeAxis(axis, rank: rank, op: isMin ? "argmin" : "argmax")
        check(shape[a] > 0, isMin ? "argmin" : "argmax", "empty axis \(a) of shape \(fmt(shape))")
        let (c, outer, n, inner) = splitAround(a)
        var outShape = shape
        outShape[a] = 1
        let out = Tensor(uninitializedShape: outShape, dtype: .int64)
        if out.count > 0 {
            omni_argreduce_f32(isMin ? 1 : 0, Int64(outer), Int64(n), Int64(inner), c.floatPointer,
                               out.rawPointer.assumingMemoryBound(to: Int64.self))
        }
        return keepDims ? out : out.squeezed(axis: a)
    }

    /// log Σ exp over `axes`, computed stably.
    public func logsumexp(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        requireFloat32("logsumexp")
        let ax = normalizedAxes(axes, op: "logsumexp")
        var r = self.detached()
        for a in ax { r = r.reduceAxisRaw(.logsumexp, a) }
        let x = self.detached()
        let out = Tensor.record(r, op: "logsumexp", inputs: [self]) { g in [g * (x - r).exp()] }
        return dropAxes(out, ax, keepDims: keepDims)
    }

    public func logsumexp(axis: Int, keepDims: Bool = false) -> Tensor { logsumexp(axes: [axis], keepDims: keepDims) }

    /// Softmax along `axis`.
    public func softmax(axis: Int = -1) -> Tensor {
        requireFloat32("softmax")
        let a = normalizeAxis(axis, rank: rank, op: "softmax")
        let (c, outer, n, inner) = splitAround(a)
        let y = Tensor(uninitializedShape: shape)
        if count > 0 { omni_softmax_f32(0, Int64(outer), Int64(n), Int64(inner), c.floatPointer, y.floatPointer) }
        return Tensor.record(y, op: "softmax", inputs: [self]) { g in
            // dx = y * (g - Σ g·y)
            [y * (g - (g * y).sum(axes: [a], keepDims: true))]
        }
    }

    /// Log-softmax along `axis`.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        requireFloat32("logSoftmax")
        let a = normalizeAxis(axis, rank: rank, op: "logSoftmax")
        let (c, outer, n, inner) = splitAround(a)
        let y = Tensor(uninitializedShape: shape)
        if count > 0 { omni_softmax_f32(1, Int64(outer), Int64(n), Int64(inner), c.floatPointer, y.floatPointer) }
        return Tensor.record(y, op: "logSoftmax", inputs: [self]) { g in
            [g - y.exp() * g.sum(axes: [a], keepDims: true)]
        }
    }

    /// Running sum along `axis`.
    public func cumsum(axis: Int) -> Tensor {
        requireFloat32("cumsum")
        let a = normalizeAxis(axis, rank: rank, op: "cumsum")
        let (c, outer, n, inner) = splitAround(a)
        let y = Tensor(uninitializedShape: shape)
        if count > 0 { omni_cumsum_f32(Int64(outer), Int64(n), Int64(inner), c.floatPointer, y.floatPointer) }
        return Tensor.record(y, op: "cumsum", inputs: [self]) { g in
            [g.flipped(axes: [a]).contiguous().cumsum(axis: a).flipped(axes: [a]).contiguous()]
        }
    }

    /// The `k` largest (or smallest) values along `axis`, sorted, and their int64 indices.
    /// Gradients flow to the selected values.
    public func topK(_ k: Int, axis: Int = -1, largest: Bool = true) -> (values: Tensor, indices: Tensor) {
        requireFloat32("topK")
        let a = normalizeAxis(axis, rank: rank, op: "topK")
        check(k >= 0 && k <= shape[a], "topK", "k = \(k) is outside 0...\(shape[a]) for axis \(axis) of shape \(fmt(shape))")
        let moved = a == rank - 1 ? self.detached() : self.detached().transposed(a, -1)
        let rows = moved.contiguous()
        let n = shape[a]
        let nrows = n == 0 ? 0 : rows.count / n
        var outShape = moved.shape
        outShape[rank - 1] = k
        let values = Tensor(uninitializedShape: outShape)
        let indices = Tensor(uninitializedShape: outShape, dtype: .int64)
        if nrows > 0 && k > 0 {
            omni_topk_rows_f32(largest ? 1 : 0, Int64(nrows), Int64(n), Int64(k), rows.floatPointer, values.floatPointer,
                               indices.rawPointer.assumingMemoryBound(to: Int64.self))
        }
        let idx = a == rank - 1 ? indices : indices.transposed(a, -1).contiguous()
        let vals = a == rank - 1 ? values : values.transposed(a, -1).contiguous()
        let inShape = shape
        let out = Tensor.record(vals, op: "topK", inputs: [self]) { g in
            [Tensor.zeros(inShape).scatterAdding(axis: a, index: idx, source: g)]
        }
        return (out, idx)
    }
}
