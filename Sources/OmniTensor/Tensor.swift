import COmniKernels

/// An n-dimensional array on the CPU with reverse-mode automatic differentiation.
///
/// A `Tensor` is a value: a view (shape, strides in elements, offset) onto shared, immutable
/// storage. Views (`reshaped`, `transposed`, `sliced`, `expanded`, …) share storage without
/// copying; operations produce new storage. Gradients are recorded when an input requires them
/// (see ``requiringGrad()`` and ``valueAndGrad(_:_:)``).
///
/// ```swift
/// let x = Tensor([1, 2, 3, 4], shape: [2, 2])
/// let y = (x * x).sum()          // 30
/// ```
public struct Tensor: @unchecked Sendable {
    let storage: TensorStorage
    /// Size along each axis.
    public let shape: [Int]
    /// Element step along each axis (0 for a broadcast axis).
    public let strides: [Int]
    /// Offset of the first element in `storage`, in elements.
    let offset: Int
    /// The autograd node that produced this tensor (nil when it does not require gradients).
    var node: GradNode?

    init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int = 0, node: GradNode? = nil) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.node = node
    }

    /// A dense, uninitialised tensor (internal: every caller writes all of it).
    init(uninitializedShape shape: [Int], dtype: DType = .float32) {
        Threads.ensure()
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative size in shape \(fmt(shape))")
        let n = shape.reduce(1, *)
        self.init(storage: TensorStorage(count: n, dtype: dtype), shape: shape, strides: Tensor.denseStrides(shape))
    }

    /// The element type.
    public var dtype: DType { storage.dtype }
    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// C-order strides for `shape`.
    static func denseStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= Swift.max(shape[i], 1)
        }
        return strides
    }

    /// Whether the elements are laid out densely in C order (size-1 axes may have any stride).
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: rank - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Pointer to the first element.
    var rawPointer: UnsafeMutableRawPointer { storage.pointer + offset * dtype.size }
    var floatPointer: UnsafeMutablePointer<Float> {
        precondition(dtype == .float32, "internal: float32 pointer requested for a \(dtype) tensor of shape \(fmt(shape))")
        return rawPointer.assumingMemoryBound(to: Float.self)
    }

    // MARK: Creation from Swift values

    /// A float32 tensor from values in C order.
    public init(_ values: [Float], shape: [Int]? = nil) {
        let shape = shape ?? [values.count]
        check(shape.reduce(1, *) == values.count, "Tensor.init",
              "\(values.count) values do not fill shape \(fmt(shape))")
        self.init(uninitializedShape: shape, dtype: .float32)
        values.withUnsafeBufferPointer { buf in
            if let base = buf.baseAddress { storage.pointer.copyMemory(from: base, byteCount: values.count * 4) }
        }
    }

    /// A float32 tensor from Double values (rounded to float32).
    public init(_ values: [Double], shape: [Int]? = nil) {
        self.init(values.map { Float($0) }, shape: shape)
    }

    /// An integer tensor (int64 by default; `int32`, `int8`, `uint8` or `bool` on request).
    public init(_ values: [Int], shape: [Int]? = nil, dtype: DType = .int64) {
        let shape = shape ?? [values.count]
        check(shape.reduce(1, *) == values.count, "Tensor.init",
              "\(values.count) values do not fill shape \(fmt(shape))")
        check(!dtype.isFloatingPoint, "Tensor.init", "integer values need an integer dtype, got \(dtype)")
        var wide = values.map { Int64($0) }
        let t = Tensor(uninitializedShape: shape, dtype: .int64)
        wide.withUnsafeMutableBufferPointer { buf in
            if let base = buf.baseAddress { t.storage.pointer.copyMemory(from: base, byteCount: values.count * 8) }
        }
        self = dtype == .int64 ? t : t.converted(to: dtype)
    }

    /// A bool mask tensor.
    public init(_ values: [Bool], shape: [Int]? = nil) {
        self.init(values.map { $0 ? 1 : 0 }, shape: shape, dtype: .bool)
    }

    /// A rank-0 float32 tensor.
    public init(_ scalar: Float) { self.init([scalar], shape: []) }

    // MARK: Reading values

    /// All elements in C order as Float (converting from any dtype).
    public func toArray() -> [Float] {
        let t = converted(to: .float32).contiguous()
        return Array(UnsafeBufferPointer(start: t.floatPointer, count: t.count))
    }

    /// All elements in C order as Int (converting from any dtype; floats truncate toward zero).
    public func toIntArray() -> [Int] {
        let t = converted(to: .int64).contiguous()
        let p = t.rawPointer.assumingMemoryBound(to: Int64.self)
        return (0..<t.count).map { Int(p[$0]) }
    }

    /// All elements as Bool (nonzero is true).
    public func toBoolArray() -> [Bool] { toIntArray().map { $0 != 0 } }

    /// The single element of a one-element tensor, as Float.
    public func item() -> Float {
        check(count == 1, "item", "needs exactly one element, tensor has shape \(fmt(shape))")
        return toArray()[0]
    }

    // MARK: Layout

    /// A dense C-order tensor with the same values (self when already dense, possibly at an offset
    /// into a larger storage).
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        Tensor.copyElements(from: self, into: out)
        return Tensor.record(out, op: "contiguous", inputs: [self]) { g in [g] }
    }

    /// Copies the elements of `src` into the (possibly strided) view `dst` of the same shape/dtype.
    static func copyElements(from src: Tensor, into dst: Tensor) {
        precondition(src.shape == dst.shape && src.dtype == dst.dtype)
        if src.count == 0 { return }
        let (shape, strides) = coalesce(src.shape, [src.strides, dst.strides])
        shape.withUnsafeBufferPointer { sh in
            strides[0].withUnsafeBufferPointer { ss in
                strides[1].withUnsafeBufferPointer { ds in
                    omni_copy_strided(Int32(src.dtype.size), Int32(shape.count), i64(sh), src.rawPointer, i64(ss),
                                      dst.rawPointer, i64(ds))
                }
            }
        }
    }

    /// Converts to another dtype (a copy; self when the dtype already matches).
    ///
    /// Float → integer truncates toward zero; float → bfloat16/float16 rounds to nearest even;
    /// anything → bool is `x != 0`. Gradients flow through float → float conversions.
    public func converted(to target: DType) -> Tensor {
        if target == dtype { return self }
        let src = contiguous()
        let out = Tensor(uninitializedShape: shape, dtype: target)
        omni_cast(dtype.code, src.rawPointer, target.code, out.rawPointer, Int64(count))
        if dtype.isFloatingPoint && target.isFloatingPoint {
            let from = dtype
            return Tensor.record(out, op: "converted", inputs: [self]) { g in [g.converted(to: from)] }
        }
        return out
    }
}

/// Reinterprets an `UnsafeBufferPointer<Int>` as the `int64_t *` the kernels take.
@inline(__always)
func i64(_ p: UnsafeBufferPointer<Int>) -> UnsafePointer<Int64> {
    UnsafeRawPointer(p.baseAddress!).assumingMemoryBound(to: Int64.self)
}

/// Merges adjacent axes that are contiguous with each other in every operand, drops size-1 axes.
/// Fewer, longer axes make the kernels' inner loops long and vectorisable.
func coalesce(_ shape: [Int], _ strides: [[Int]]) -> ([Int], [[Int]]) {
    var outShape: [Int] = []
    var outStrides: [[Int]] = Array(repeating: [], count: strides.count)
    for d in 0..<shape.count where shape[d] != 1 {
        if let last = outShape.indices.last,
           strides.indices.allSatisfy({ strides[$0][d] * shape[d] == outStrides[$0][last] }) {
            outShape[last] *= shape[d]
            for k in strides.indices { outStrides[k][last] = strides[k][d] }
        } else {
            outShape.append(shape[d])
            for k in strides.indices { outStrides[k].append(strides[k][d]) }
        }
    }
    if outShape.isEmpty {  // a scalar or all-ones shape: one element
        return ([1], strides.map { _ in [0] })
    }
    return (outShape, outStrides)
}
