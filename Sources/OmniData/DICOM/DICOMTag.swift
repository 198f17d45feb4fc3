/// A data element tag (group, element), written `(0010,0010)` as in the DICOM standard.
public struct DICOMTag: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let group: UInt16
    public let element: UInt16

    public init(_ group: UInt16, _ element: UInt16) {
        self.group = group
        self.element = element
    }

    /// Private tags have an odd group number.
    public var isPrivate: Bool { group & 1 == 1 }

    public var description: String {
        func hex(_ v: UInt16) -> String {
            let s = String(v, radix: 16, uppercase: true)
            return String(repeating: "0", count: 4 - s.count) + s
        }
        return "(\(hex(group)),\(hex(element)))"
    }

    public static func < (a: DICOMTag, b: DICOMTag) -> Bool { (a.group, a.element) < (b.group, b.element) }

    public static let patientName = DICOMTag(0x0010, 0x0010)
    public static let patientID = DICOMTag(0x0010, 0x0020)
    public static let patientBirthDate = DICOMTag(0x0010, 0x0030)
    public static let patientSex = DICOMTag(0x0010, 0x0040)
    public static let patientAge = DICOMTag(0x0010, 0x1010)
    public static let studyInstanceUID = DICOMTag(0x0020, 0x000D)
    public static let seriesInstanceUID = DICOMTag(0x0020, 0x000E)
    public static let sopInstanceUID = DICOMTag(0x0008, 0x0018)
    public static let pixelData = DICOMTag(0x7FE0, 0x0010)
}
