/// What a DICOM file says about its image, patient, study and series (JSON keys in snake_case).
///
/// Text attributes are nil when absent and "" when present but empty. Patient-identifying fields
/// can be hidden with ``masked()`` before the metadata is printed or logged (DESIGN.md §8).
///
/// ```swift
/// let meta = try DICOMFile(contentsOfFile: "CT_small.dcm").metadata
/// print(meta.modality ?? "?", meta.rows, meta.columns, meta.rescaleIntercept)   // CT 128 128 -1024.0
/// ```
public struct DICOMMetadata: Codable, Sendable, Equatable {
    public struct Patient: Codable, Sendable, Equatable {
        public var name: String?
        public var id: String?
        public var birthDate: String?
        public var sex: String?
        public var age: String?

        enum CodingKeys: String, CodingKey {
            case name, id, birthDate = "birth_date", sex, age
        }
    }

    public struct Study: Codable, Sendable, Equatable {
        public var instanceUID: String?
        public var id: String?
        public var date: String?
        public var time: String?
        public var description: String?
        public var accessionNumber: String?
        public var referringPhysicianName: String?

        enum CodingKeys: String, CodingKey {
            case instanceUID = "instance_uid", id, date, time, description, accessionNumber = "accession_number"
            case referringPhysicianName = "referring_physician_name"
        }
    }

    public struct Series: Codable, Sendable, Equatable {
        public var instanceUID: String?
        public var number: String?
        public var description: String?
        public var date: String?
        public var bodyPartExamined: String?

        enum CodingKeys: String, CodingKey {
            case instanceUID = "instance_uid", number, description, date, bodyPartExamined = "body_part_examined"
        }
    }

    public var transferSyntaxUID: String
    public var transferSyntaxName: String
    public var sopClassUID: String?
    public var sopInstanceUID: String?
    public var modality: String?
    public var manufacturer: String?
    public var institutionName: String?
    /// Whether the file holds an image that can be decoded (Pixel Data with readable attributes).
    public var hasPixelData: Bool
    public var rows: Int
    public var columns: Int
    public var frames: Int
    public var samplesPerPixel: Int
    public var bitsAllocated: Int
    public var bitsStored: Int
    public var highBit: Int
    /// 0 unsigned, 1 two's complement.
    public var pixelRepresentation: Int
    /// 0 interleaved, 1 planar (as stored; decoded pixels are always interleaved).
    public var planarConfiguration: Int
    public var photometricInterpretation: String
    /// Modality LUT: value = stored × slope + intercept (Hounsfield units for CT).
    public var rescaleSlope: Double
    public var rescaleIntercept: Double
    /// VOI LUT window(s), one pair per value of Window Center / Window Width.
    public var windowCenter: [Double]
    public var windowWidth: [Double]
    /// Pixel Spacing in mm: [between rows, between columns].
    public var pixelSpacing: [Double]?
    public var sliceThickness: Double?
    /// Whether the pixel data went through lossy compression.
    public var lossy: Bool
    public var patient: Patient
    public var study: Study
    public var series: Series

    enum CodingKeys: String, CodingKey {
        case transferSyntaxUID = "transfer_syntax_uid", transferSyntaxName = "transfer_syntax_name"
        case sopClassUID = "sop_class_uid", sopInstanceUID = "sop_instance_uid", modality, manufacturer
        case institutionName = "institution_name", hasPixelData = "has_pixel_data", rows, columns, frames
        case samplesPerPixel = "samples_per_pixel", bitsAllocated = "bits_allocated", bitsStored = "bits_stored"
        case highBit = "high_bit", pixelRepresentation = "pixel_representation"
        case planarConfiguration = "planar_configuration", photometricInterpretation = "photometric_interpretation"
        case rescaleSlope = "rescale_slope", rescaleIntercept = "rescale_intercept", windowCenter = "window_center"
        case windowWidth = "window_width", pixelSpacing = "pixel_spacing", sliceThickness = "slice_thickness", lossy
        case patient, study, series
    }

    /// The text shown instead of a masked value.
    public static let maskText = "***"

    /// A copy with the patient's identity and the other person- and place-identifying fields
    /// (accession number, referring physician, institution) replaced by ``maskText`` where present.
    public func masked() -> DICOMMetadata {
        func mask(_ s: String?) -> String? { s.map { $0.isEmpty ? $0 : Self.maskText } }
        var m = self
        m.patient = Patient(name: mask(patient.name), id: mask(patient.id), birthDate: mask(patient.birthDate),
                            sex: mask(patient.sex), age: mask(patient.age))
        m.study.accessionNumber = mask(study.accessionNumber)
        m.study.referringPhysicianName = mask(study.referringPhysicianName)
        m.institutionName = mask(institutionName)
        return m
    }
}
