import COmniKernels

/// The element type of a ``Tensor``.
///
/// `float32` is the compute type: arithmetic, reductions and gradients run in it. `bfloat16` and
/// `float16` are storage types (convert with ``Tensor/converted(to:)``; `bfloat16` also feeds
/// oneDNN's matmul). `int8`/`uint8` feed the quantized matmul; `int32`/`int64` hold indices;
/// `bool` holds masks (one byte per element).
public enum DType: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    case float32, bfloat16, float16, int8, uint8, int32, int64, bool

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: return 4
        case .bfloat16, .float16: return 2
        case .int8, .uint8, .bool: return 1
        case .int64: return 8
        }
    }

    /// Whether values are floating point.
    public var isFloatingPoint: Bool { self == .float32 || self == .bfloat16 || self == .float16 }

    /// The code shared with the C kernels.
    var code: Int32 {
        switch self {
        case .float32: return Int32(OMNI_F32)
        case .bfloat16: return Int32(OMNI_BF16)
        case .float16: return Int32(OMNI_F16)
        case .int8: return Int32(OMNI_I8)
        case .uint8: return Int32(OMNI_U8)
        case .int32: return Int32(OMNI_I32)
        case .int64: return Int32(OMNI_I64)
        case .bool: return Int32(OMNI_BOOL)
        }
    }

    public var description: String { rawValue }
}
