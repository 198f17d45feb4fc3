import COmniDICOM
import OmniTensor

/// The element type of stored DICOM samples (Bits Allocated × Pixel Representation).
public enum DICOMSampleType: String, Codable, Sendable, CaseIterable {
    case uint8, int8, uint16, int16, uint32, int32

    /// Bytes per sample.
    public var byteCount: Int {
        switch self {
        case .uint8, .int8: 1
        case .uint16, .int16: 2
        case .uint32, .int32: 4
        }
    }

    /// NumPy's type string (little-endian), e.g. `<i2`.
    public var numpyDescriptor: String {
        switch self {
        case .uint8: "|u1"
        case .int8: "|i1"
        case .uint16: "<u2"
        case .int16: "<i2"
        case .uint32: "<u4"
        case .int32: "<i4"
        }
    }

    /// The ``OmniTensor/DType`` that holds every value of this type exactly. OmniTensor has no 16-bit
    /// integer or unsigned 32-bit types, so 16-bit samples widen to int32 and uint32 to int64.
    public var tensorDType: DType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16, .int16, .int32: .int32
        case .uint32: .int64
        }
    }

    var code: Int32 {
        switch self {
        case .uint8: Int32(OMNI_DICOM_U8)
        case .int8: Int32(OMNI_DICOM_I8)
        case .uint16: Int32(OMNI_DICOM_U16)
        case .int16: Int32(OMNI_DICOM_I16)
        case .uint32: Int32(OMNI_DICOM_U32)
        case .int32: Int32(OMNI_DICOM_I32)
        }
    }

    init(bitsAllocated: Int, signed: Bool) {
        switch bitsAllocated {
        case 32: self = signed ? .int32 : .uint32
        case 16: self = signed ? .int16 : .uint16
        default: self = signed ? .int8 : .uint8   // 8, and 1-bit data unpacked to bytes
        }
    }
}

/// Decoded pixel data: the stored values of every frame, samples interleaved, little-endian.
///
/// `shape` is `[frames, rows, columns]` for one sample per pixel and `[frames, rows, columns, samples]`
/// otherwise. 1-bit data is unpacked to one byte (0 or 1) per pixel. YBR_FULL and YBR_FULL_422
/// 8-bit data is converted to RGB unless asked otherwise (``DICOMFile/pixels(convertingYBRToRGB:maximumBytes:)``).
public struct DICOMPixels: Sendable {
    public let shape: [Int]
    public let sampleType: DICOMSampleType
    /// The photometric interpretation of these values (after any YBR → RGB conversion).
    public let photometricInterpretation: String
    /// `shape.product × sampleType.byteCount` bytes, C order, little-endian.
    public let bytes: [UInt8]

    public var frames: Int { shape[0] }
    public var rows: Int { shape[1] }
    public var columns: Int { shape[2] }
    public var samplesPerPixel: Int { shape.count == 4 ? shape[3] : 1 }
    public var count: Int { shape.reduce(1, *) }

    /// The stored values as a tensor of ``DICOMSampleType/tensorDType`` (exact; 16-bit widens to int32).
    public func tensor() -> Tensor {
        switch sampleType {
        case .uint8, .int8:
            return bytes.withUnsafeBytes { Tensor(copying: $0, shape: shape, dtype: sampleType.tensorDType) }
        case .uint16, .int16, .int32:
            var out = [Int32](repeating: 0, count: count)
            bytes.withUnsafeBytes { src in
                out.withUnsafeMutableBufferPointer { omni_dicom_widen_i32(src.baseAddress, sampleType.code, count, $0.baseAddress) }
            }
            return out.withUnsafeBytes { Tensor(copying: $0, shape: shape, dtype: .int32) }
        case .uint32:
            var out = [Int64](repeating: 0, count: count)
            bytes.withUnsafeBytes { src in
                out.withUnsafeMutableBufferPointer { omni_dicom_widen_i64(src.baseAddress, sampleType.code, count, $0.baseAddress) }
            }
            return out.withUnsafeBytes { Tensor(copying: $0, shape: shape, dtype: .int64) }
        }
    }

    /// Every stored value widened to Int (C order).
    public func integers() -> [Int] {
        var out = [Int64](repeating: 0, count: count)
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { omni_dicom_widen_i64(src.baseAddress, sampleType.code, count, $0.baseAddress) }
        }
        return out.map { Int($0) }
    }

    /// float32 values `Float(Double(stored) × slope + intercept)` (the Modality LUT's linear rescale;
    /// Hounsfield units for CT), same shape.
    public func rescaled(slope: Double, intercept: Double) -> Tensor {
        var out = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer {
                omni_dicom_rescale_f32(src.baseAddress, sampleType.code, count, slope, intercept, $0.baseAddress)
            }
        }
        return Tensor(out, shape: shape)
    }
}
