import COmniDICOM

/// A VOI window (PS3.3 C.11.2.1.2): the centre and width of the value range mapped onto the
/// display range, in rescaled units (Hounsfield units for CT).
///
/// ```swift
/// let soft = DICOMWindow(center: 40, width: 400)
/// let gray = soft.apply(to: [-1000, 40, 1000])   // [0, 128, 255]
/// ```
public struct DICOMWindow: Codable, Sendable, Equatable {
    public var center: Double
    /// At least 1.
    public var width: Double

    public init(center: Double, width: Double) {
        self.center = center
        self.width = width
    }

    /// The linear VOI function of PS3.3 C.11.2.1.2.1 to 8 bits: values at or below
    /// `center − 0.5 − (width − 1)/2` become 0, values above `center − 0.5 + (width − 1)/2` become 255,
    /// and in between `((x − (center − 0.5)) / (width − 1) + 0.5) × 255`, rounded half up.
    /// `inverted` flips the result (MONOCHROME1 shows low values bright).
    public func apply(to values: [Float], inverted: Bool = false) -> [UInt8] {
        precondition(width >= 1, "DICOMWindow: width \(width) is below 1")
        var out = [UInt8](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                omni_dicom_window_u8(src.baseAddress, src.count, center, width, inverted ? 1 : 0, dst.baseAddress)
            }
        }
        return out
    }

    /// The window that spans `values` from their minimum to their maximum.
    public static func spanning(_ values: [Float]) -> DICOMWindow {
        guard let lo = values.min(), let hi = values.max() else { return DICOMWindow(center: 0, width: 1) }
        return DICOMWindow(center: (Double(lo) + Double(hi)) / 2 + 0.5, width: max(1, Double(hi) - Double(lo) + 1))
    }
}
