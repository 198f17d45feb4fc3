// The acquisition modality of a medical image, as DICOM's Modality attribute (0008,0060) names it
// (PS3.3 C.7.3.1.1.1, "Defined Terms"). ImageEncoder adds a learned embedding per modality to the
// tokens of tagged images, so one encoder can tell a CT slice from a mammogram.
import Foundation

/// The DICOM modality of an image (tag (0008,0060)); unknown codes map to ``other``.
///
/// ```swift
/// let tag = ImagingModality(dicomCode: "CT ")   // .ct (DICOM pads codes with spaces)
/// ```
public enum ImagingModality: String, Codable, Sendable, CaseIterable {
    /// Computed tomography.
    case ct = "CT"
    /// Magnetic resonance.
    case mr = "MR"
    /// Computed radiography.
    case cr = "CR"
    /// Digital radiography.
    case dx = "DX"
    /// Ultrasound.
    case us = "US"
    /// X-ray angiography.
    case xa = "XA"
    /// Radio fluoroscopy.
    case rf = "RF"
    /// Mammography.
    case mg = "MG"
    /// Nuclear medicine.
    case nm = "NM"
    /// Positron emission tomography.
    case pt = "PT"
    /// Intra-oral radiography.
    case io = "IO"
    /// Panoramic X-ray.
    case px = "PX"
    /// Endoscopy.
    case es = "ES"
    /// Slide microscopy.
    case sm = "SM"
    /// External-camera photography.
    case xc = "XC"
    /// Optical coherence tomography (ophthalmic).
    case opt = "OPT"
    /// Ophthalmic photography.
    case op = "OP"
    /// Other (and any code not listed here).
    case other = "OT"

    /// The modality for a DICOM code string (case and surrounding spaces ignored); ``other`` for
    /// codes this list does not name.
    public init(dicomCode: String) {
        let code = dicomCode.trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\0"))).uppercased()
        self = ImagingModality(rawValue: code) ?? .other
    }

    /// Row of this modality in an encoder's modality embedding table.
    public var index: Int { ImagingModality.allCases.firstIndex(of: self)! }
}
