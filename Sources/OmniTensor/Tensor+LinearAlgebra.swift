import COmniKernels

extension Tensor {
    /// The (row, column) strides oneDNN can read a [rows, cols] matrix with, or nil when it needs a
    /// copy. oneDNN takes any plain layout: both strides positive, one of them 1 and the other at
    /// least the extent it steps over (row-major with padded rows, or column-major as for a
    /// transposed view). A size-1 axis has no meaningful stride, so one is chosen that makes the
    /// layout plain. Stride 0 (an expanded operand) is not accepted: oneDNN would fall back to its
    /// slow reference kernel, so it is materialised instead.
    fileprivate static func plainMatrixStrides(rows: Int, cols: Int, rs: Int, cs: Int) -> (Int, Int)? {
        if rows == 1 && cols == 1 { return (1, 1) }
        var rs = rs, cs = cs
        if rows == 1 { rs = cs == 1 ? cols : 1 }
        if cols == 1 { cs = rs == 1 ? rows : 1 }
        guard rs > 0 && cs > 0 else { return nil }
        if cs == 1 && rs >= cols { return (rs, cs) }
        if rs == 1 && cs >= rows { return (rs, cs) }
        return nil
    }

    /// A [batch, rows, cols] description of self (which has `batchShape` or a batch of one) that
    /// oneDNN accepts, copying only when the layout cannot be described: transposed, row-padded and
    /// batch-strided views go through as they are.
    fileprivate func matrixOperand(batchShape: [Int]) -> (tensor: Tensor, batch: Int, strides: [Int]) {
        let rows = shape[rank - 2], cols = shape[rank - 1]
        let own = Array(shape[..<(rank - 2)])
        if own.reduce(1, *) == 1 {
            // a batch of one broadcasts inside oneDNN; its batch stride is irrelevant
            if let (rs, cs) = Tensor.plainMatrixStrides(rows: rows, cols: cols, rs: strides[rank - 2], cs: strides[rank - 1]) {
                return (self, 1, [rows * cols, rs, cs])
            }
            return (contiguous(), 1, [rows * cols, cols, 1])
        }
        let batch = batchShape.reduce(1, *)
        let dense = { (t: Tensor) in (t, batch, [rows * cols, cols, 1]) }
        // oneDNN broadcasts only a whole batch of one; other batch broadcasts are materialised
        if own != batchShape { return dense(expanded(to: batchShape + [rows, cols]).contiguous()) }
        // the batch axes must collapse into one positive stride
        let batchAxes = (0..<(rank - 2)).filter { shape[$0] != 1 }
        let batchStride = strides[batchAxes.last!]
        var collapsible = batchStride > 0
        for (outer, inner) in zip(batchAxes.dropLast(), batchAxes.dropFirst()) where strides[outer] != strides[inner] * shape[inner] {
            collapsible = false
        }
        guard collapsible,
              let (rs, cs) = Tensor.plainMatrixStrides(rows: rows, cols: cols, rs: strides[rank - 2], cs: strides[rank - 1]) else {
            return dense(contiguous())
        }
        return (self, batch, [batchStride, rs, cs])
    }

    /// Matrix product with NumPy semantics: 1-D operands are promoted and the added axis removed,
    /// batch axes broadcast. float32 × float32 → float32; bfloat16 × bfloat16 → float32
    /// (oneDNN, accumulating in float32). Transposed views are passed to oneDNN without copies.
    ///
    /// ```swift
    /// let y = x.matmul(w.transposed())   // [B, T, D] x [D, E] -> [B, T, E]
    /// ```
    public func matmul(_ other: Tensor) -> Tensor {
        check(rank >= 1 && other.rank >= 1, "matmul", "needs operands of rank ≥ 1, got \(fmt(shape)) and \(fmt(other.shape))")
        Tensor.checkMatmulDtypes(self, other, op: "matmul")
        let k = shape[rank - 1], k2 = other.rank == 1 ? other.shape[0] : other.shape[other.rank - 2]
        check(k == k2, "matmul", "inner sizes differ: \(fmt(shape)) x \(fmt(other.shape))")
        let a = rank == 1 ? unsqueezed(axis: 0) : self
        let b = other.rank == 1 ? other.unsqueezed(axis: 1) : other
        let y = Tensor.matmulCore(a, b, bias: nil, op: "matmul", shapes: (shape, other.shape))
        var out = y
        if rank == 1 { out = out.squeezed(axis: -2) }
        if other.rank == 1 { out = out.squeezed(axis: -1) }
        return out
    }

    /// `x · weightᵀ + bias` (PyTorch's `F.linear`): weight [out, in], bias [out], x [..., in].
    ///
    /// ```swift
    /// let y = x.linear(weight: w, bias: b)   // [B, T, in] -> [B, T, out]
    /// ```
    public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        check(weight.rank == 2 && rank >= 1 && shape[rank - 1] == weight.shape[1], "linear",
              "input \(fmt(shape)) does not match weight \(fmt(weight.shape)) ([out, in])")
        Tensor.checkMatmulDtypes(self, weight, op: "linear")
        if let bias {
            check(bias.shape == [weight.shape[0]], "linear", "bias \(fmt(bias.shape)) does not match weight \(fmt(weight.shape))")
            check(bias.dtype == .float32, "linear", "bias must be float32, got \(bias.dtype)")
        }
        let lead = Array(shape[..<(rank - 1)])
        let flat = reshaped([lead.reduce(1, *), shape[rank - 1]])   // [rows, in], also when in = 0
        let y = Tensor.matmulCore(flat, weight.transposed(), bias: bias, op: "linear", shapes: (shape, weight.shape))
        return y.reshaped(lead + [weight.shape[0]])
    }

    static func checkMatmulDtypes(_ a: Tensor, _ b: Tensor, op: String) {
        check(a.dtype == b.dtype && (a.dtype == .float32 || a.dtype == .bfloat16), op,
              "operands must both be float32 or both bfloat16, got \(a.dtype) and \(b.dtype)")
    }

    /// a [..., M, K] · b [..., K, N] (+ bias [N]) with autograd. `shapes` are the caller's operand
    /// shapes, for messages.
    static func matmulCore(_ a: Tensor, _ b: Tensor, bias: Tensor?, op: String, shapes: ([Int], [Int])) -> Tensor {
        let M = a.shape[a.rank - 2], K = a.shape[a.rank - 1], N = b.shape[b.rank - 1]
        let aBatch = Array(a.shape[..<(a.rank - 2)]), bBatch = Array(b.shape[..<(b.rank - 2)])
        let n = Swift.max(aBatch.count, bBatch.count)
        let compatible = (0..<n).allSatisfy { i in
            let x = i < n - aBatch.count ? 1 : aBatch[i - (n - aBatch.count)]
            let y = i < n - bBatch.count ? 1 : bBatch[i - (n - bBatch.count)]
            return x == y || x == 1 || y == 1
        }
        check(compatible, op, "batch axes of \(fmt(shapes.0)) and \(fmt(shapes.1)) cannot be broadcast together")
        let batchShape = broadcastShape(aBatch, bBatch, op: op)
        var out = Tensor(uninitializedShape: batchShape + [M, N])
        if out.count > 0 {
            if K == 0 {
                out.floatPointer.initialize(repeating: 0, count: out.count)
                if let bias { out = binaryRaw(.add, out, bias, name: op) }
            } else {
                let (ta, ba, sa) = a.detached().matrixOperand(batchShape: batchShape)
                let (tb, bb, sb) = b.detached().matrixOperand(batchShape: batchShape)
                let biasDense = bias?.detached().contiguous()
                let rc = sa.withUnsafeBufferPointer { psa in
                    sb.withUnsafeBufferPointer { psb in
                        omni_matmul(a.dtype.code, Int64(ba), Int64(bb), Int64(M), Int64(N), Int64(K),
                                    ta.rawPointer, i64(psa), tb.rawPointer, i64(psb),
                                    biasDense.map { UnsafePointer($0.floatPointer) }, out.floatPointer)
                    }
                }
                check(rc == 0, op, "\(String(cString: omni_dnnl_last_error())) for \(fmt(shapes.0)) x \(fmt(shapes.1))")
            }
        }
        let ad = a.detached(), bd = b.detached()
        let aShape = a.shape, bShape = b.shape
        // the rule captures flags, not the inputs (whose nodes must stay out of closures)
        let needA = a.requiresGrad, needB = b.requiresGrad, hasBias = bias != nil
        var inputs = [a, b]
        if let bias { inputs.append(bias) }
        return record(out, op: op, inputs: inputs) { g in
            let gf = g.dtype == .float32 ? g : g.converted(to: .float32)
            let af = ad.dtype == .float32 ? ad : ad.converted(to: .float32)
            let bf = bd.dtype == .float32 ? bd : bd.converted(to: .float32)
            // dA = g · bᵀ, dB = aᵀ · g, each summed over the batch axes its operand was broadcast along
            var ga: Tensor? = needA ? gf.matmul(bf.transposed()).sum(toShape: aShape) : nil
            var gb: Tensor? = needB ? af.transposed().matmul(gf).sum(toShape: bShape) : nil
            if ad.dtype != .float32 { ga = ga?.converted(to: ad.dtype); gb = gb?.converted(to: bd.dtype) }
            var result = [ga, gb]
            if hasBias { result.append(gf.sum(axes: Array(0..<(gf.rank - 1)))) }   // [N]
            return result
        }
    }
}

/// A tensor quantized to 8 bits with an affine (scale, zero point) mapping: `real = scale · (q − zero)`.
public struct QuantizedTensor: Sendable {
    /// The integer values (`uint8` for activations, `int8` for weights).
    public let values: Tensor
    /// One scale, or one per output column (per-channel weights).
    public let scales: [Float]
    /// Zero point (activations; 0 for symmetric weights).
    public let zeroPoint: Int32

    /// Asymmetric per-tensor uint8 quantization (for activations), covering [Swift.min(x, 0), Swift.max(x, 0)].
    public static func quantizeActivations(_ x: Tensor) -> QuantizedTensor {
        x.requireFloat32("quantizeActivations")
        let v = x.contiguous().toArray()
        let lo = Swift.min(v.min() ?? 0, 0), hi = Swift.max(v.max() ?? 0, 0)
        let scale = hi > lo ? (hi - lo) / 255 : 1
        let zero = Int32((-lo / scale).rounded()).clamped(0, 255)
        let q = v.map { Int((($0 / scale).rounded() + Float(zero)).clampedF(0, 255)) }
        return QuantizedTensor(values: Tensor(q, shape: x.shape, dtype: .uint8), scales: [scale], zeroPoint: zero)
    }

    /// Symmetric int8 quantization of a [K, N] weight matrix with one scale per column N.
    public static func quantizeWeights(_ w: Tensor) -> QuantizedTensor {
        w.requireFloat32("quantizeWeights")
        check(w.rank == 2, "quantizeWeights", "needs a [K, N] matrix, got \(fmt(w.shape))")
        let K = w.shape[0], N = w.shape[1]
        let v = w.contiguous().toArray()
        var scales = [Float](repeating: 1, count: N)
        for n in 0..<N {
            var m: Float = 0
            for k in 0..<K { m = Swift.max(m, Swift.abs(v[k * N + n])) }
            scales[n] = m > 0 ? m / 127 : 1
        }
        var q = [Int](repeating: 0, count: K * N)
        for k in 0..<K { for n in 0..<N { q[k * N + n] = Int((v[k * N + n] / scales[n]).rounded().clampedF(-127, 127)) } }
        return QuantizedTensor(values: Tensor(q, shape: [K, N], dtype: .int8), scales: scales, zeroPoint: 0)
    }

    /// The real values this tensor stands for.
    public func dequantized() -> Tensor {
        let q = values.converted(to: .float32)
        let z = q - Float(zeroPoint)
        return scales.count == 1 ? z * scales[0] : z * Tensor(scales)
    }
}

extension Tensor {
    /// Whether oneDNN's int8 kernels compute exactly on this CPU (they need VNNI or AMX; without
    /// them oneDNN's u8×s8 path saturates 16-bit intermediates and gives wrong answers).
    public static var int8IsAccelerated: Bool { omni_dnnl_int8_exact() != 0 }

    /// Quantized matmul: `a` (uint8 [..., M, K], per-tensor scale and zero point) times `b`
    /// (int8 [K, N], symmetric, per-tensor or per-column scales) → float32 [..., M, N], plus bias.
    ///
    /// Uses oneDNN's u8 × s8 → s32 kernels where the CPU has VNNI/AMX; elsewhere an exact integer
    /// reference kernel (slower, never wrong).
    public static func quantizedMatmul(_ a: QuantizedTensor, _ b: QuantizedTensor, bias: Tensor? = nil) -> Tensor {
        quantizedMatmul(a, b, bias: bias, useOneDNN: int8IsAccelerated)
    }

    /// `useOneDNN: false` forces the reference kernel (tests exercise it on any CPU).
    static func quantizedMatmul(_ a: QuantizedTensor, _ b: QuantizedTensor, bias: Tensor?, useOneDNN: Bool) -> Tensor {
        let av = a.values, bv = b.values
        check(av.dtype == .uint8 && bv.dtype == .int8, "quantizedMatmul", "needs uint8 × int8, got \(av.dtype) × \(bv.dtype)")
        check(av.rank >= 2 && bv.rank == 2 && av.shape[av.rank - 1] == bv.shape[0], "quantizedMatmul",
              "shapes \(fmt(av.shape)) x \(fmt(bv.shape)) do not match")
        check(a.scales.count == 1, "quantizedMatmul", "activations need one scale, got \(a.scales.count)")
        let K = bv.shape[0], N = bv.shape[1]
        check(b.scales.count == 1 || b.scales.count == N, "quantizedMatmul", "weights need 1 or \(N) scales, got \(b.scales.count)")
        if let bias { check(bias.shape == [N] && bias.dtype == .float32, "quantizedMatmul", "bias must be float32 [\(N)], got \(bias.dtype) \(fmt(bias.shape))") }
        let M = av.shape[..<(av.rank - 1)].reduce(1, *)
        let A = av.reshaped([M, K]).contiguous()   // [M, K], also when K = 0
        let B = bv.contiguous()
        var out = Tensor(uninitializedShape: [M, N])
        if out.count > 0 {
            if K == 0 {
                out.floatPointer.initialize(repeating: 0, count: out.count)
            } else if useOneDNN {
                let sa = [M * K, K, 1], sb = [K * N, N, 1]
                let biasDense = bias?.contiguous()
                let rc = sa.withUnsafeBufferPointer { psa in
                    sb.withUnsafeBufferPointer { psb in
                        b.scales.withUnsafeBufferPointer { sc in
                            omni_matmul_u8s8(1, 1, Int64(M), Int64(N), Int64(K),
                                             A.rawPointer.assumingMemoryBound(to: UInt8.self), i64(psa), a.zeroPoint, a.scales[0],
                                             B.rawPointer.assumingMemoryBound(to: Int8.self), i64(psb), sc.baseAddress!, Int64(sc.count),
                                             biasDense.map { UnsafePointer($0.floatPointer) }, out.floatPointer)
                        }
                    }
                }
                check(rc == 0, "quantizedMatmul", String(cString: omni_dnnl_last_error()))
                return out.reshaped(Array(av.shape[..<(av.rank - 1)]) + [N])   // bias added by the glue
            } else {
                let acc = Tensor(uninitializedShape: [M, N], dtype: .int32)
                omni_gemm_u8s8s32_ref(Int64(M), Int64(N), Int64(K), A.rawPointer.assumingMemoryBound(to: UInt8.self), a.zeroPoint,
                                      B.rawPointer.assumingMemoryBound(to: Int8.self), acc.rawPointer.assumingMemoryBound(to: Int32.self))
                // (scale_a · scale_b[n]) · acc, the same rounding order as oneDNN's output scale
                let scales = Tensor(b.scales.map { a.scales[0] * $0 })   // [1] or [N], broadcast over rows
                out = GradMode.withoutGrad { acc.converted(to: .float32) * scales }
            }
        }
        if let bias { out = GradMode.withoutGrad { out + bias } }
        return out.reshaped(Array(av.shape[..<(av.rank - 1)]) + [N])
    }
}

extension Int32 {
    fileprivate func clamped(_ lo: Int32, _ hi: Int32) -> Int32 { Swift.min(Swift.max(self, lo), hi) }
}
extension Float {
    fileprivate func clampedF(_ lo: Float, _ hi: Float) -> Float { Swift.min(Swift.max(self, lo), hi) }
}
