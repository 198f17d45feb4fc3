// DICOM files through GDCM 3.0 (the COmniDICOM C++ shim): metadata, pixel data for every transfer
// syntax in pydicom's and pydicom-data's test files (implicit/explicit VR little endian, explicit big
// endian, deflated, RLE, JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000), rescaling and windowing.
import COmniDICOM
import Foundation
import OmniTensor

/// A parsed DICOM file (PS3.10): its metadata, and its pixels decoded on request.
///
/// The whole file is read and parsed when the value is created; bad input throws ``DICOMError``
/// naming the file and the reason (truncated, corrupt, not DICOM, too large, …) and never crashes.
/// Pixel data is decoded by ``pixels(convertingYBRToRGB:maximumBytes:)``, after the decoded size has
/// been checked against a limit. A `DICOMFile` is not safe to use from several threads at once.
///
/// ```swift
/// let file = try DICOMFile(contentsOfFile: "CT_small.dcm")
/// print(file.metadata.modality ?? "")                 // CT
/// let hu = try file.rescaledTensor()                    // [1, 128, 128] float32, Hounsfield units
/// let png = try file.windowedImage(window: DICOMWindow(center: 40, width: 400))
/// ```
public final class DICOMFile {
    /// Files larger than this are refused before they are read (2 GiB).
    public static let defaultMaximumFileSize = 1 << 31
    /// Decoded pixel data larger than this is refused before anything is allocated (2 GiB).
    public static let defaultMaximumDecodedBytes = 1 << 31

    /// The path the file was read from (or the name given to in-memory data).
    public let path: String
    public let metadata: DICOMMetadata
    let handle: OpaquePointer

    /// Reads and parses the file at `path`.
    public convenience init(contentsOfFile path: String, maximumFileSize: Int = DICOMFile.defaultMaximumFileSize) throws(DICOMError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw DICOMError(file: path, kind: .io, "is a directory, not a DICOM file")
        }
        var error = [CChar](repeating: 0, count: 1024)
        var handle: OpaquePointer?
        let rc = omni_dicom_open_file(path, UInt64(max(0, maximumFileSize)), &handle, &error, error.count)
        guard rc == OMNI_DICOM_OK, let handle else {
            throw DICOMError(file: path, code: rc, message: cText(error))
        }
        self.init(handle: handle, path: path)
    }

    /// Parses a DICOM file held in memory; `path` names it in errors (a fuzzer or network input).
    public convenience init(data: Data, path: String = "<memory>") throws(DICOMError) {
        var error = [CChar](repeating: 0, count: 1024)
        var handle: OpaquePointer?
        let rc = data.withUnsafeBytes { raw in
            omni_dicom_open_memory(raw.baseAddress, raw.count, &handle, &error, error.count)
        }
        guard rc == OMNI_DICOM_OK, let handle else {
            throw DICOMError(file: path, code: rc, message: cText(error))
        }
        self.init(handle: handle, path: path)
    }

    init(handle: OpaquePointer, path: String) {
        self.handle = handle
        self.path = path
        metadata = Self.readMetadata(handle)
    }

    deinit { omni_dicom_close(handle) }

    /// The value of a top-level element as text (numbers in binary VRs are converted; multiple
    /// values are joined by `\`), or nil when absent. Group 0002 reads the file meta information.
    public func string(_ tag: DICOMTag) -> String? { Self.string(handle, tag) }

    /// Every top-level tag, file meta information first.
    public var tags: [DICOMTag] {
        let count = omni_dicom_tags(handle, nil, 0)
        var raw = [UInt32](repeating: 0, count: count)
        _ = raw.withUnsafeMutableBufferPointer { omni_dicom_tags(handle, $0.baseAddress, count) }
        return raw.map { DICOMTag(UInt16($0 >> 16), UInt16($0 & 0xFFFF)) }
    }

    /// Whether `tag` occurs anywhere in the data set, nested sequence items included.
    public func containsAnywhere(_ tag: DICOMTag) -> Bool {
        omni_dicom_contains_anywhere(handle, tag.group, tag.element) != 0
    }

    /// Every value of `tag` anywhere in the data set, nested sequence items included (depth-first).
    public func stringsAnywhere(_ tag: DICOMTag) -> [String] {
        var values: [String] = []
        var buffer = [CChar](repeating: 0, count: 4096)
        var index = 0
        while true {
            let length = omni_dicom_get_string_anywhere(handle, tag.group, tag.element, index, &buffer, buffer.count)
            if length < 0 { break }
            if length >= buffer.count {
                buffer = [CChar](repeating: 0, count: Int(length) + 1)
                continue
            }
            values.append(cText(buffer))
            index += 1
        }
        return values
    }

    /// Whether any private (odd-group) element occurs anywhere in the data set.
    public var containsPrivateElements: Bool { omni_dicom_has_private_anywhere(handle) != 0 }

    /// Decodes every frame. 8-bit YBR_FULL / YBR_FULL_422 becomes RGB by default, as pydicom's
    /// `pixel_array` does (float BT.601 full-range inverse, round half up, clip); JPEG 2000's
    /// YBR_RCT/ICT always come out as RGB (the codec inverts the transform). Signed samples are
    /// sign-extended from Bits Stored.
    public func pixels(convertingYBRToRGB: Bool = true,
                       maximumBytes: Int = DICOMFile.defaultMaximumDecodedBytes) throws(DICOMError) -> DICOMPixels {
        let m = metadata
        var error = [CChar](repeating: 0, count: 1024)
        var info = omni_dicom_decoded_info()
        guard m.hasPixelData else {
            var probe: UInt8 = 0
            let rc = omni_dicom_decode(handle, 0, 0, &probe, 1, &info, &error, error.count)
            throw DICOMError(file: path, code: rc == OMNI_DICOM_OK ? Int32(OMNI_DICOM_ERR_NO_PIXELS) : rc,
                             message: cText(error))
        }
        let bytesPerSample = m.bitsAllocated <= 8 ? 1 : m.bitsAllocated / 8
        var total = 1
        for factor in [m.rows, m.columns, m.frames, m.samplesPerPixel, bytesPerSample] {
            let (product, overflow) = total.multipliedReportingOverflow(by: factor)
            guard !overflow, product <= maximumBytes else {
                throw DICOMError(file: path, kind: .tooLarge,
                                 "the decoded image would be \(m.rows) rows × \(m.columns) columns × \(m.frames) frames × " +
                                 "\(m.samplesPerPixel) samples × \(bytesPerSample) bytes, above the \(maximumBytes)-byte limit")
            }
            total = product
        }
        var bytes = [UInt8](repeating: 0, count: total)
        let rc = bytes.withUnsafeMutableBytes { dst in
            omni_dicom_decode(handle, convertingYBRToRGB ? 1 : 0, UInt64(maximumBytes), dst.baseAddress, dst.count,
                              &info, &error, error.count)
        }
        guard rc == OMNI_DICOM_OK else { throw DICOMError(file: path, code: rc, message: cText(error)) }
        let type = DICOMSampleType(bitsAllocated: m.bitsAllocated, signed: m.pixelRepresentation == 1)
        let shape = m.samplesPerPixel == 1 ? [m.frames, m.rows, m.columns] : [m.frames, m.rows, m.columns, m.samplesPerPixel]
        let photometric = withUnsafeBytes(of: info.photometric) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            .trimmingCharacters(in: .whitespaces)
        return DICOMPixels(shape: shape, sampleType: type, photometricInterpretation: photometric, bytes: bytes)
    }

    /// The stored values as a tensor (see ``DICOMPixels/tensor()`` for the dtype).
    public func storedTensor() throws(DICOMError) -> Tensor { try pixels().tensor() }

    /// float32 values after the Modality LUT's rescale (slope × stored + intercept): Hounsfield
    /// units for CT. Shape as ``DICOMPixels/shape``.
    public func rescaledTensor() throws(DICOMError) -> Tensor {
        try pixels().rescaled(slope: metadata.rescaleSlope, intercept: metadata.rescaleIntercept)
    }

    // MARK: - metadata

    static func string(_ handle: OpaquePointer, _ tag: DICOMTag) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        var length = omni_dicom_get_string(handle, tag.group, tag.element, &buffer, buffer.count)
        guard length >= 0 else { return nil }
        if length >= buffer.count {
            buffer = [CChar](repeating: 0, count: Int(length) + 1)
            length = omni_dicom_get_string(handle, tag.group, tag.element, &buffer, buffer.count)
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func numbers(_ text: String?) -> [Double] {
        guard let text else { return [] }
        return text.split(separator: "\\").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }

    static func readMetadata(_ h: OpaquePointer) -> DICOMMetadata {
        var info = omni_dicom_image_info()
        omni_dicom_image_info_get(h, &info)
        func s(_ g: UInt16, _ e: UInt16) -> String? { string(h, DICOMTag(g, e)) }
        let photometric = withUnsafeBytes(of: info.photometric) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            .trimmingCharacters(in: .whitespaces)
        // Rescale from the data set (as pydicom's apply_modality_lut reads it), 1 and 0 when absent.
        let slope = numbers(s(0x0028, 0x1053)).first ?? 1
        let intercept = numbers(s(0x0028, 0x1052)).first ?? 0
        let spacing = numbers(s(0x0028, 0x0030))
        return DICOMMetadata(
            transferSyntaxUID: String(cString: omni_dicom_transfer_syntax_uid(h)),
            transferSyntaxName: String(cString: omni_dicom_transfer_syntax_name(h)),
            sopClassUID: s(0x0008, 0x0016), sopInstanceUID: s(0x0008, 0x0018), modality: s(0x0008, 0x0060),
            manufacturer: s(0x0008, 0x0070), institutionName: s(0x0008, 0x0080),
            hasPixelData: info.has_pixels != 0,
            rows: Int(info.rows), columns: Int(info.columns), frames: Int(info.frames),
            samplesPerPixel: Int(info.samples_per_pixel), bitsAllocated: Int(info.bits_allocated),
            bitsStored: Int(info.bits_stored), highBit: Int(info.high_bit),
            pixelRepresentation: Int(info.pixel_representation), planarConfiguration: Int(info.planar_configuration),
            photometricInterpretation: photometric, rescaleSlope: slope, rescaleIntercept: intercept,
            windowCenter: numbers(s(0x0028, 0x1050)), windowWidth: numbers(s(0x0028, 0x1051)),
            pixelSpacing: spacing.count == 2 ? spacing : nil, sliceThickness: numbers(s(0x0018, 0x0050)).first,
            lossy: info.lossy != 0,
            patient: .init(name: s(0x0010, 0x0010), id: s(0x0010, 0x0020), birthDate: s(0x0010, 0x0030),
                           sex: s(0x0010, 0x0040), age: s(0x0010, 0x1010)),
            study: .init(instanceUID: s(0x0020, 0x000D), id: s(0x0020, 0x0010), date: s(0x0008, 0x0020),
                         time: s(0x0008, 0x0030), description: s(0x0008, 0x1030), accessionNumber: s(0x0008, 0x0050),
                         referringPhysicianName: s(0x0008, 0x0090)),
            series: .init(instanceUID: s(0x0020, 0x000E), number: s(0x0020, 0x0011), description: s(0x0008, 0x103E),
                          date: s(0x0008, 0x0021), bodyPartExamined: s(0x0018, 0x0015)))
    }
}
