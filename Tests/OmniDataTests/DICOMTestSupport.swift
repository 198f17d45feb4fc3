// Helpers for the DICOM tests: asset paths, pydicom's reference values, FNV-1a hashing, and a tiny
// explicit-VR-little-endian writer for hand-made (bad) files.
import Foundation
import Testing
@testable import OmniData

/// A DICOM test file fetched by scripts/fetch-assets (pydicom / pydicom-data), or nil after
/// recording an issue that says how to get it.
func dicomAsset(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    assetPath("dicom/\(name)", sourceLocation: sourceLocation)
}

/// Opens a fetched DICOM asset.
func openDICOMAsset(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> DICOMFile {
    let path = try #require(dicomAsset(name, sourceLocation: sourceLocation), sourceLocation: sourceLocation)
    return try DICOMFile(contentsOfFile: path)
}

// fnv1a64(bytes:) (MediaTestSupport.swift) is the hash scripts/fixtures/make_dicom_fixtures.py computes.

/// pydicom 3.0.2's decoded pixels (Tests/OmniDataTests/Fixtures/dicom/pydicom_reference.json).
struct PydicomReference: Decodable {
    struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let fnv1a64: String
        let sample_stride: Int?
        let sample: [Int]?
    }
    struct Rescaled: Decodable {
        let file: String
        let shape: [Int]
        let fnv1a64: String
        let indices: [Int]
        let values: [Float]
        let min: Float
        let max: Float
        let sum: Double
    }
    let generator: String
    let files: [String: Entry]
    let ct_small_rescaled: Rescaled

    static func load() throws -> PydicomReference {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixturePath("dicom/pydicom_reference.json")))
        return try JSONDecoder().decode(PydicomReference.self, from: data)
    }
}

/// A minimal DICOM file (explicit VR little endian) built element by element.
struct DICOMWriter {
    private(set) var bytes: [UInt8] = []

    private mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    private mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }

    /// Appends an element; long VRs (OB, OW, SQ, UN, UT) get the 4-byte length. `declaredLength`
    /// overrides the length field (to make corrupt files).
    mutating func element(_ group: UInt16, _ element: UInt16, _ vr: String, _ value: [UInt8], declaredLength: UInt32? = nil) {
        u16(group); u16(element)
        bytes += Array(vr.utf8)
        if ["OB", "OW", "SQ", "UN", "UT"].contains(vr) {
            u16(0); u32(declaredLength ?? UInt32(value.count))
        } else {
            u16(UInt16(declaredLength ?? UInt32(value.count)))
        }
        bytes += value
    }

    mutating func text(_ group: UInt16, _ element: UInt16, _ vr: String, _ s: String) {
        var v = Array(s.utf8)
        if v.count % 2 == 1 { v.append(vr == "UI" ? 0 : 0x20) }
        self.element(group, element, vr, v)
    }

    mutating func us(_ group: UInt16, _ element: UInt16, _ value: UInt16) {
        self.element(group, element, "US", [UInt8(value & 0xFF), UInt8(value >> 8)])
    }

    /// Preamble, "DICM" and file meta information for explicit VR little endian secondary capture.
    static func withMeta() -> DICOMWriter {
        var meta = DICOMWriter()
        meta.element(0x0002, 0x0001, "OB", [0, 1])
        meta.text(0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.7")
        meta.text(0x0002, 0x0003, "UI", "1.2.3.4.5.6")
        meta.text(0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1")
        var w = DICOMWriter()
        w.bytes = [UInt8](repeating: 0, count: 128) + Array("DICM".utf8)
        w.element(0x0002, 0x0000, "UL", [UInt8(meta.bytes.count & 0xFF), UInt8(meta.bytes.count >> 8), 0, 0])
        w.bytes += meta.bytes
        return w
    }

    /// A grayscale image header (rows × columns × frames, 16-bit unsigned) followed by `pixelBytes`.
    static func image(rows: UInt16, columns: UInt16, frames: Int, pixelBytes: [UInt8], declaredPixelLength: UInt32? = nil) -> [UInt8] {
        var w = withMeta()
        w.text(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7")
        w.text(0x0008, 0x0018, "UI", "1.2.3.4.5.6")
        w.text(0x0008, 0x0060, "CS", "OT")
        w.text(0x0010, 0x0010, "PN", "Doe^Jane")
        w.us(0x0028, 0x0002, 1)
        w.text(0x0028, 0x0004, "CS", "MONOCHROME2")
        w.text(0x0028, 0x0008, "IS", "\(frames)")
        w.us(0x0028, 0x0010, rows)
        w.us(0x0028, 0x0011, columns)
        w.us(0x0028, 0x0100, 16)
        w.us(0x0028, 0x0101, 16)
        w.us(0x0028, 0x0102, 15)
        w.us(0x0028, 0x0103, 0)
        w.element(0x7FE0, 0x0010, "OW", pixelBytes, declaredLength: declaredPixelLength)
        return w.bytes
    }
}

/// A temporary directory removed by `cleanup()`.
struct ScratchDirectory {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("omni-dicom-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = path(name)
        FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}
