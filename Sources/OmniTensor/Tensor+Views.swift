extension Tensor {
    // MARK: Reshaping

    /// The same elements with a new shape; one dimension may be -1 (inferred). A view when the
    /// layout allows, otherwise a copy.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        let inferred = newShape.filter { $0 == -1 }.count
        check(inferred <= 1 && newShape.allSatisfy { $0 >= -1 }, "reshaped", "invalid target shape \(fmt(newShape))")
        if inferred == 1 {
            check(known != 0 && count % known == 0, "reshaped", "cannot reshape \(fmt(shape)) into \(fmt(newShape))")
            target[newShape.firstIndex(of: -1)!] = count / known
        }
        check(target.reduce(1, *) == count, "reshaped", "cannot reshape \(fmt(shape)) (\(count) elements) into \(fmt(newShape))")
        if target == shape { return self }
        let src = contiguous()
        let out = Tensor(storage: src.storage, shape: target, strides: Tensor.denseStrides(target), offset: src.offset)
        let inShape = shape
        return Tensor.record(out, op: "reshaped", inputs: [src]) { g in [g.reshaped(inShape)] }
    }

    /// Flattens axes `start...end` into one.
    public func flattened(from start: Int = 0, to end: Int = -1) -> Tensor {
        if rank == 0 { return reshaped([1]) }
        let s = normalizeAxis(start, rank: rank, op: "flattened"), e = normalizeAxis(end, rank: rank, op: "flattened")
        check(s <= e, "flattened", "start axis \(start) is after end axis \(end)")
        return reshaped(Array(shape[..<s]) + [shape[s...e].reduce(1, *)] + Array(shape[(e + 1)...]))
    }

    /// Reorders the axes: result axis i is input axis `axes[i]` (a view).
    public func permuted(_ axes: [Int]) -> Tensor {
        check(axes.count == rank, "permuted", "\(axes.count) axes given for a tensor of rank \(rank)")
        let norm = axes.map { normalizeAxis($0, rank: rank, op: "permuted") }
        check(Set(norm).count == rank, "permuted", "axes \(axes) are not a permutation of 0..<\(rank)")
        let out = Tensor(storage: storage, shape: norm.map { shape[$0] }, strides: norm.map { strides[$0] }, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in norm.enumerated() { inverse[a] = i }
        return Tensor.record(out, op: "permuted", inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// Swaps two axes (a view); defaults to the last two.
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        check(rank >= 2, "transposed", "needs rank ≥ 2, tensor has shape \(fmt(shape))")
        let x = normalizeAxis(a, rank: rank, op: "transposed"), y = normalizeAxis(b, rank: rank, op: "transposed")
        var axes = Array(0..<rank)
        axes.swapAt(x, y)
        return permuted(axes)
    }

    /// Inserts an axis of size 1 at `axis` (which may be `rank`).
    public func unsqueezed(axis: Int) -> Tensor {
        let a = normalizeAxis(axis, rank: rank + 1, op: "unsqueezed")
        var s = shape, st = strides
        s.insert(1, at: a)
        st.insert(a < rank ? strides[a] * shape[a] : 1, at: a)
        let out = Tensor(storage: storage, shape: s, strides: st, offset: offset)
        return Tensor.record(out, op: "unsqueezed", inputs: [self]) { g in [g.squeezed(axis: a)] }
    }

    /// Removes axis `axis`, which must have size 1.
    public func squeezed(axis: Int) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: "squeezed")
        check(shape[a] == 1, "squeezed", "axis \(axis) has size \(shape[a]), not 1 (shape \(fmt(shape)))")
        var s = shape, st = strides
        s.remove(at: a); st.remove(at: a)
        let out = Tensor(storage: storage, shape: s, strides: st, offset: offset)
        return Tensor.record(out, op: "squeezed", inputs: [self]) { g in [g.unsqueezed(axis: a)] }
    }

    /// Removes every axis of size 1.
    public func squeezed() -> Tensor {
        var t = self
        for a in stride(from: rank - 1, through: 0, by: -1) where shape[a] == 1 { t = t.squeezed(axis: a) }
        return t
    }

    // MARK: Broadcasting

    /// Broadcasts size-1 (or missing leading) axes to `target` without copying (stride 0).
    public func expanded(to target: [Int]) -> Tensor {
        check(target.count >= rank, "expanded", "cannot expand shape \(fmt(shape)) to fewer axes \(fmt(target))")
        let lead = target.count - rank
        var st = [Int](repeating: 0, count: target.count)
        for i in 0..<target.count {
            if i < lead { continue }
            let d = shape[i - lead]
            check(d == target[i] || d == 1, "expanded", "cannot expand shape \(fmt(shape)) to \(fmt(target)): axis \(i - lead) has size \(d)")
            st[i] = d == target[i] ? strides[i - lead] : 0
        }
        if target == shape { return self }
        let out = Tensor(storage: storage, shape: target, strides: st, offset: offset)
        let inShape = shape
        return Tensor.record(out, op: "expanded", inputs: [self]) { g in [g.sum(toShape: inShape)] }
    }

    /// The NumPy broadcast of two shapes; stops naming both when they are incompatible.
    public static func broadcastShape(_ a: [Int], _ b: [Int], op: String = "broadcast") -> [Int] {
        let n = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let x = i < n - a.count ? 1 : a[i - (n - a.count)]
            let y = i < n - b.count ? 1 : b[i - (n - b.count)]
            check(x == y || x == 1 || y == 1, op, "shapes \(fmt(a)) and \(fmt(b)) cannot be broadcast together")
            out[i] = x == 1 ? y : x
        }
        return out
    }

    /// Sums a broadcast gradient back down to `target` (the inverse of ``expanded(to:)``).
    func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        // gradients of bfloat16/float16 tensors keep their dtype; the sum runs in float32
        if dtype != .float32 { return converted(to: .float32).sum(toShape: target).converted(to: dtype) }
        let lead = rank - target.count
        var axes: [Int] = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[i + lead] != 1 { axes.append(i + lead) }
        var r = axes.isEmpty ? self : sum(axes: axes, keepDims: true)
        if lead > 0 { r = r.reshaped(target) }
        return r.shape == target ? r : r.reshaped(target)
    }

    // MARK: Slicing

    /// Elements `start..<end` (by `step`) along `axis` (a view). Negative `start`/`end` count from
    /// the end; bounds are clamped like Python slices.
    public func sliced(axis: Int, start: Int = 0, end: Int? = nil, step: Int = 1) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: "sliced")
        check(step > 0, "sliced", "step must be positive, got \(step)")
        let n = shape[a]
        func clampIndex(_ i: Int) -> Int { let j = i < 0 ? i + n : i; return Swift.min(Swift.max(j, 0), n) }
        let s = clampIndex(start), e = Swift.max(clampIndex(end ?? n), s)
        let len = (e - s + step - 1) / step
        var sh = shape, st = strides
        sh[a] = len
        st[a] = strides[a] * step
        let out = Tensor(storage: storage, shape: sh, strides: st, offset: offset + s * strides[a])
        let inShape = shape
        return Tensor.record(out, op: "sliced", inputs: [self]) { g in
            let z = Tensor.zeros(inShape, dtype: g.dtype)
            Tensor.copyElements(from: g, into: z.sliced(axis: a, start: s, end: e, step: step))
            return [z]
        }
    }

    /// `length` elements from `start` along `axis` (a view); `start` must be in range.
    public func narrowed(axis: Int, start: Int, length: Int) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: "narrowed")
        check(start >= 0 && length >= 0 && start + length <= shape[a], "narrowed",
              "range \(start)..<\(start + length) is outside axis \(axis) of size \(shape[a]) (shape \(fmt(shape)))")
        return sliced(axis: a, start: start, end: start + length)
    }

    /// Reverses the order of elements along each of `axes` (a view with negative strides).
    public func flipped(axes: [Int]) -> Tensor {
        var st = strides, off = offset
        let norm = Set(axes.map { normalizeAxis($0, rank: rank, op: "flipped") })
        for a in norm where shape[a] > 0 {
            off += (shape[a] - 1) * strides[a]
            st[a] = -strides[a]
        }
        let out = Tensor(storage: storage, shape: shape, strides: st, offset: off)
        return Tensor.record(out, op: "flipped", inputs: [self]) { g in [g.flipped(axes: Array(norm))] }
    }

    // MARK: Joining and splitting

    /// Joins tensors of equal shape except along `axis`.
    public static func concatenated(_ tensors: [Tensor], axis: Int) -> Tensor {
        check(!tensors.isEmpty, "concatenated", "needs at least one tensor")
        let first = tensors[0]
        let a = normalizeAxis(axis, rank: first.rank, op: "concatenated")
        for t in tensors {
            check(t.dtype == first.dtype, "concatenated", "dtype \(t.dtype) does not match \(first.dtype)")
            check(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                  "concatenated", "shape \(fmt(t.shape)) does not match \(fmt(first.shape)) outside axis \(axis)")
        }
        var outShape = first.shape
        outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let out = Tensor(uninitializedShape: outShape, dtype: first.dtype)
        var start = 0
        var bounds: [(Int, Int)] = []
        for t in tensors {
            let len = t.shape[a]
            if len > 0 { copyElements(from: t, into: out.narrowed(axis: a, start: start, length: len).detached()) }
            bounds.append((start, len))
            start += len
        }
        return record(out, op: "concatenated", inputs: tensors) { g in
            bounds.map { g.narrowed(axis: a, start: $0.0, length: $0.1) }
        }
    }

    /// Stacks tensors of equal shape along a new axis.
    public static func stacked(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        check(!tensors.isEmpty, "stacked", "needs at least one tensor")
        let a = normalizeAxis(axis, rank: tensors[0].rank + 1, op: "stacked")
        for t in tensors {
            check(t.shape == tensors[0].shape, "stacked", "shape \(fmt(t.shape)) does not match \(fmt(tensors[0].shape))")
        }
        return concatenated(tensors.map { $0.unsqueezed(axis: a) }, axis: a)
    }

    /// Splits along `axis` into pieces of the given sizes (views).
    public func split(sizes: [Int], axis: Int) -> [Tensor] {
        let a = normalizeAxis(axis, rank: rank, op: "split")
        check(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[a], "split",
              "sizes \(sizes) do not add up to axis \(axis) of size \(shape[a]) (shape \(fmt(shape)))")
        var start = 0
        return sizes.map { len in
            defer { start += len }
            return narrowed(axis: a, start: start, length: len)
        }
    }

    /// Splits along `axis` into `chunks` pieces of equal size (the last may be smaller), like `torch.chunk`.
    public func chunked(_ chunks: Int, axis: Int) -> [Tensor] {
        let a = normalizeAxis(axis, rank: rank, op: "chunked")
        check(chunks > 0, "chunked", "chunk count must be positive, got \(chunks)")
        let n = shape[a]
        let size = (n + chunks - 1) / chunks
        if size == 0 { return [self] }
        var sizes: [Int] = []
        var left = n
        while left > 0 { sizes.append(Swift.min(size, left)); left -= size }
        return split(sizes: sizes, axis: a)
    }

    /// Constant padding: `padding[i]` = (before, after) for axis i (missing leading axes get none).
    public func padded(_ padding: [(before: Int, after: Int)], value: Float = 0) -> Tensor {
        check(padding.count <= rank, "padded", "\(padding.count) paddings for a tensor of rank \(rank)")
        check(dtype == .float32, "padded", "needs float32, got \(dtype)")
        let pads = Array(repeating: (before: 0, after: 0), count: rank - padding.count) + padding
        var outShape = shape
        for i in 0..<rank {
            check(pads[i].before >= 0 && pads[i].after >= 0, "padded", "negative padding \(pads[i]) on axis \(i)")
            outShape[i] += pads[i].before + pads[i].after
        }
        let out = Tensor.full(outShape, value)
        var inner = out.detached()
        for i in 0..<rank { inner = inner.narrowed(axis: i, start: pads[i].before, length: shape[i]) }
        Tensor.copyElements(from: self, into: inner)
        let inShape = shape
        return Tensor.record(out, op: "padded", inputs: [self]) { g in
            var v = g
            for i in 0..<inShape.count { v = v.narrowed(axis: i, start: pads[i].before, length: inShape[i]) }
            return [v.contiguous()]
        }
    }

    /// Tiles the tensor `repeats[i]` times along axis i (like `torch.Tensor.repeat`).
    public func repeated(_ repeats: [Int]) -> Tensor {
        check(repeats.count >= rank && repeats.allSatisfy { $0 >= 0 }, "repeated",
              "repeats \(repeats) must be non-negative and at least rank \(rank)")
        let base = reshaped(Array(repeating: 1, count: repeats.count - rank) + shape)
        // [r0, s0, r1, s1, ...] then merge pairs
        var interleaved: [Int] = [], expandedShape: [Int] = []
        for (r, s) in zip(repeats, base.shape) { interleaved += [1, s]; expandedShape += [r, s] }
        return base.reshaped(interleaved).expanded(to: expandedShape).contiguous()
            .reshaped(zip(repeats, base.shape).map { $0 * $1 })
    }
}
