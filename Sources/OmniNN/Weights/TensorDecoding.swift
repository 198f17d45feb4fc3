import OmniTensor

/// Shared checks and conversions that turn validated file bytes into tensors.
///
/// Readers validate a shape with ``elementCount(_:file:what:)`` and compare the byte count it
/// implies with the bytes actually present *before* anything is allocated, so a lying header
/// cannot trigger a huge allocation or an arithmetic trap.
enum TensorDecoding {
    /// How elements are stored in a file.
    enum Stored: Equatable {
        /// Stored as the Omni dtype itself.
        case native(DType)
        /// IEEE double, converted to float32 on load.
        case float64

        var size: Int {
            switch self {
            case .native(let d): return d.size
            case .float64: return 8
            }
        }

        /// The dtype of the loaded tensor.
        var dtype: DType {
            switch self {
            case .native(let d): return d
            case .float64: return .float32
            }
        }
    }

    /// Largest rank accepted from a file; real checkpoints stay far below it.
    static let maxRank = 64

    /// The element count of `shape`, after checking that dimensions are non-negative and that
    /// neither the count nor the strides a tensor of this shape would need overflow.
    static func elementCount(_ shape: [Int], file: String, what: @autoclosure () -> String) throws -> Int {
        guard shape.count <= maxRank else {
            throw WeightsError(file: file, "\(what()): rank \(shape.count) exceeds the limit of \(maxRank)")
        }
        var count = 1, strideProduct = 1
        for d in shape {
            guard d >= 0 else { throw WeightsError(file: file, "\(what()): negative dimension in shape \(shape)") }
            let (c, o1) = count.multipliedReportingOverflow(by: d)
            let (s, o2) = strideProduct.multipliedReportingOverflow(by: Swift.max(d, 1))
            // 2^55 elements leaves room to multiply by any element size without overflow.
            guard !o1, !o2, c <= 1 << 55, s <= 1 << 55 else {
                throw WeightsError(file: file, "\(what()): shape \(shape) has too many elements")
            }
            count = c
            strideProduct = s
        }
        return count
    }

    /// A tensor over `region` (exactly `count × stored.size` bytes, little-endian unless
    /// `bigEndian`), borrowing `owner`'s memory when the bytes can be used as they are.
    static func tensor(from region: UnsafeRawBufferPointer, owner: AnyObject, shape: [Int],
                       stored: Stored, bigEndian: Bool = false) -> Tensor {
        let count = shape.reduce(1, *)
        precondition(region.count == count * stored.size, "TensorDecoding: region size was not validated")
        switch stored {
        case .native(let dtype):
            if !bigEndian || dtype.size == 1 {
                if let base = region.baseAddress, Int(bitPattern: base) % dtype.size == 0 {
                    return Tensor(borrowing: base, shape: shape, dtype: dtype, owner: owner)
                }
                return Tensor(copying: region, shape: shape, dtype: dtype)
            }
            let swapped = OwnedBytes(count: region.count)
            byteSwap(region, into: swapped.pointer, elementSize: dtype.size)
            return Tensor(borrowing: swapped.pointer, shape: shape, dtype: dtype, owner: swapped)
        case .float64:
            let out = OwnedBytes(count: count * 4)
            let dst = out.pointer.bindMemory(to: Float.self, capacity: count)
            // A one-time load conversion of a rare format, so it stays in Swift.
            for i in 0..<count {
                var bits = region.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                bits = bigEndian ? UInt64(bigEndian: bits) : UInt64(littleEndian: bits)
                dst[i] = Float(Double(bitPattern: bits))
            }
            return Tensor(borrowing: out.pointer, shape: shape, dtype: .float32, owner: out)
        }
    }

    /// Copies elements of `elementSize` bytes, reversing the bytes of each.
    static func byteSwap(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawPointer, elementSize: Int) {
        let n = src.count / elementSize
        for i in 0..<n {
            for b in 0..<elementSize {
                dst.storeBytes(of: src[i * elementSize + b], toByteOffset: i * elementSize + elementSize - 1 - b, as: UInt8.self)
            }
        }
    }

    /// The byte range a strided view needs inside its storage, or nil when it does not fit.
    ///
    /// `offset`, `sizes` and `strides` are in elements; strides must be non-negative.
    static func stridedExtent(offset: Int, sizes: [Int], strides: [Int], elementSize: Int) -> Range<Int>? {
        guard offset >= 0, sizes.count == strides.count, strides.allSatisfy({ $0 >= 0 }) else { return nil }
        if sizes.contains(0) { return 0..<0 }
        var last = offset
        for (n, s) in zip(sizes, strides) {
            let (step, o1) = (n - 1).multipliedReportingOverflow(by: s)
            let (sum, o2) = last.addingReportingOverflow(step)
            guard !o1, !o2 else { return nil }
            last = sum
        }
        let (endElement, o3) = last.addingReportingOverflow(1)
        let (end, o4) = endElement.multipliedReportingOverflow(by: elementSize)
        let (start, o5) = offset.multipliedReportingOverflow(by: elementSize)
        guard !o3, !o4, !o5 else { return nil }
        return start..<end
    }

    /// Whether `strides` are C-order dense for `sizes` (size-1 axes may have any stride).
    static func isDense(sizes: [Int], strides: [Int]) -> Bool {
        var expected = 1
        for i in stride(from: sizes.count - 1, through: 0, by: -1) where sizes[i] != 1 {
            if strides[i] != expected { return false }
            expected *= sizes[i]
        }
        return true
    }

    /// Gathers a strided view (already checked with ``stridedExtent``) into dense C-order bytes.
    static func gather(_ storage: UnsafeRawBufferPointer, offset: Int, sizes: [Int], strides: [Int],
                       elementSize: Int) -> OwnedBytes {
        let count = sizes.reduce(1, *)
        let out = OwnedBytes(count: count * elementSize)
        guard count > 0, let base = storage.baseAddress else { return out }
        let rank = sizes.count
        if rank == 0 {
            out.pointer.copyMemory(from: base + offset * elementSize, byteCount: elementSize)
            return out
        }
        // Odometer over all axes but the last; the last axis is copied as one run when dense.
        let inner = sizes[rank - 1], innerStride = strides[rank - 1]
        var index = [Int](repeating: 0, count: rank - 1)
        var src = offset, dst = 0
        let rows = count / inner
        for _ in 0..<rows {
            if innerStride == 1 {
                (out.pointer + dst).copyMemory(from: base + src * elementSize, byteCount: inner * elementSize)
                dst += inner * elementSize
            } else {
                for j in 0..<inner {
                    (out.pointer + dst).copyMemory(from: base + (src + j * innerStride) * elementSize, byteCount: elementSize)
                    dst += elementSize
                }
            }
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                src += strides[axis]
                if index[axis] < sizes[axis] { break }
                src -= strides[axis] * sizes[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return out
    }
}
