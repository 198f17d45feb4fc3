import COmniKernels
import Foundation

/// A reference-counted, 64-byte aligned buffer of elements of one dtype.
///
/// Storage is written only while a tensor that owns it is being produced (or through
/// ``Tensor/copy(into:)``-style internal kernels on fresh buffers); after that it is read-only,
/// which is what makes ``Tensor`` values safe to share across threads.
final class TensorStorage: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let count: Int
    let dtype: DType
    /// Keeps a foreign owner (e.g. a memory-mapped file) alive; nil when this storage owns `pointer`.
    private let owner: AnyObject?

    init(count: Int, dtype: DType, zeroed: Bool = false) {
        self.count = count
        self.dtype = dtype
        let bytes = Swift.max(count * dtype.size, 1)
        // Large blocks are reused from freed ones instead of page-faulted in fresh (see storage.c).
        guard let p = omni_storage_alloc(bytes) else {
            preconditionFailure("Tensor: cannot allocate \(bytes) bytes for \(count) \(dtype) elements")
        }
        pointer = p
        if zeroed { memset(pointer, 0, bytes) }
        owner = nil
    }

    /// Wraps memory owned by `owner` (no copy).
    init(borrowing pointer: UnsafeMutableRawPointer, count: Int, dtype: DType, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.dtype = dtype
        self.owner = owner
    }

    deinit {
        if owner == nil { omni_storage_free(pointer, Swift.max(count * dtype.size, 1)) }
    }
}
