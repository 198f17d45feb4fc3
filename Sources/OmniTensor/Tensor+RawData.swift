import Foundation

extension Tensor {
    /// A tensor holding a copy of `bytes`, interpreted as little-endian elements of `dtype` in C order.
    ///
    /// Weight loaders use this; the byte count must match the shape exactly.
    public init(copying bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) {
        check(shape.allSatisfy { $0 >= 0 }, "Tensor(copying:)", "negative size in shape \(fmt(shape))")
        let n = shape.reduce(1, *)
        check(bytes.count == n * dtype.size, "Tensor(copying:)",
              "\(bytes.count) bytes do not hold \(fmt(shape)) elements of \(dtype) (\(n * dtype.size) bytes)")
        self.init(uninitializedShape: shape, dtype: dtype)
        if let base = bytes.baseAddress, n > 0 { storage.pointer.copyMemory(from: base, byteCount: bytes.count) }
    }

    /// A tensor over memory owned by `owner` (for example a memory-mapped file), without copying.
    ///
    /// The memory must stay valid and unchanged while `owner` lives; the tensor keeps `owner` alive.
    public init(borrowing pointer: UnsafeRawPointer, shape: [Int], dtype: DType, owner: AnyObject) {
        check(shape.allSatisfy { $0 >= 0 }, "Tensor(borrowing:)", "negative size in shape \(fmt(shape))")
        Threads.ensure()
        let n = shape.reduce(1, *)
        let storage = TensorStorage(borrowing: UnsafeMutableRawPointer(mutating: pointer), count: n, dtype: dtype, owner: owner)
        self.init(storage: storage, shape: shape, strides: Tensor.denseStrides(shape))
    }

    /// Calls `body` with the elements' bytes in C order (dense; copies first if self is a strided view).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let t = contiguous()
        return try body(UnsafeRawBufferPointer(start: t.rawPointer, count: t.count * dtype.size))
    }
}
