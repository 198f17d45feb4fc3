import COmniDICOM
import Foundation

/// De-identification following DICOM PS3.15 Annex E's Basic Application Level Confidentiality
/// Profile (no options): every attribute of ``DICOMProfileRule/basicProfile`` is removed, emptied,
/// replaced by a dummy value of its VR, or given a new UID — in the main data set and in every
/// sequence item — and every private attribute is removed. New UIDs are consistent within a file
/// (one old UID always maps to the same new one, including the file meta Media Storage SOP
/// Instance UID). Patient Identity Removed (0012,0062) becomes YES and the De-identification Method
/// (0012,0063) and its code sequence (0012,0064: DCM 113100) are recorded. Pixel Data and the
/// transfer syntax are untouched (burned-in annotations, if any, stay).
///
/// Conditional actions are resolved without consulting the IOD (see ``DICOMProfileRule/resolvedAction``).
/// Dummy values: "ANONYMIZED" for text VRs, 19000101 / 000000 / 19000101000000 for DA / TM / DT,
/// "0" for IS/DS, "000Y" for AS, zeros for binary VRs, a new UID for UI.
///
/// ```swift
/// try DICOMAnonymizer.anonymize(contentsOfFile: "in.dcm", to: "out.dcm")
/// ```
public enum DICOMAnonymizer {
    /// The text written into De-identification Method (0012,0063).
    public static let methodDescription = "DICOM PS3.15 E.1 Basic Application Confidentiality Profile"

    /// The de-identified file, encoded; `path` names the input in errors.
    public static func anonymize(_ data: Data, path: String = "<memory>") throws(DICOMError) -> Data {
        let file = try DICOMFile(data: data, path: path)
        return try anonymizedData(of: file)
    }

    /// Reads `input`, de-identifies it and writes the result to `output` atomically (a temporary
    /// file beside it, then a rename).
    public static func anonymize(contentsOfFile input: String, to output: String) throws(DICOMError) {
        let file = try DICOMFile(contentsOfFile: input)
        let data = try anonymizedData(of: file)
        do {
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw DICOMError(file: output, kind: .io, "cannot write: \(error.localizedDescription)")
        }
    }

    /// De-identifies `file` in place (its handle; `file.metadata` still shows the values read) and
    /// encodes the result.
    static func anonymizedData(of file: DICOMFile) throws(DICOMError) -> Data {
        let rules = DICOMProfileRule.basicProfile.map { rule in
            omni_dicom_rule(group: rule.group, element: rule.element, group_mask: rule.groupMask,
                            element_mask: rule.elementMask, action: CChar(rule.resolvedAction.asciiValue!))
        }
        var error = [CChar](repeating: 0, count: 1024)
        var rc = rules.withUnsafeBufferPointer {
            omni_dicom_deidentify(file.handle, $0.baseAddress, $0.count, methodDescription, &error, error.count)
        }
        guard rc == OMNI_DICOM_OK else { throw DICOMError(file: file.path, code: rc, message: cText(error)) }
        var buffer: UnsafeMutableRawPointer?
        var size = 0
        rc = omni_dicom_write_memory(file.handle, &buffer, &size, &error, error.count)
        guard rc == OMNI_DICOM_OK, let buffer else {
            throw DICOMError(file: file.path, code: rc, message: cText(error))
        }
        defer { omni_dicom_free_buffer(buffer) }
        return Data(bytes: buffer, count: size)
    }
}
