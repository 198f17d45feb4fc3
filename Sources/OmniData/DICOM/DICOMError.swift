import COmniDICOM

/// A DICOM file that cannot be read, decoded or written: the file, what kind of problem, and why.
///
/// ```swift
/// do { _ = try DICOMFile(contentsOfFile: "scan.dcm") } catch { print(error) }  // "scan.dcm: truncated …"
/// ```
public struct DICOMError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, for code that reacts differently to different failures.
    public enum Kind: String, Sendable, Equatable {
        case io, empty, notDICOM, corrupt, noPixelData, unsupported, tooLarge, decode, outOfMemory, invalidArgument, internalError
    }

    /// The file (or the name given to in-memory data).
    public let file: String
    public let kind: Kind
    /// The reason, in words.
    public let message: String

    public init(file: String, kind: Kind, _ message: String) {
        self.file = file
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(file): \(message)" }

    /// Maps a COmniDICOM status code and message.
    init(file: String, code: Int32, message: String) {
        let kind: Kind = switch Int(code) {
        case Int(OMNI_DICOM_ERR_IO): .io
        case Int(OMNI_DICOM_ERR_EMPTY): .empty
        case Int(OMNI_DICOM_ERR_NOT_DICOM): .notDICOM
        case Int(OMNI_DICOM_ERR_CORRUPT): .corrupt
        case Int(OMNI_DICOM_ERR_NO_PIXELS): .noPixelData
        case Int(OMNI_DICOM_ERR_UNSUPPORTED): .unsupported
        case Int(OMNI_DICOM_ERR_TOO_LARGE): .tooLarge
        case Int(OMNI_DICOM_ERR_DECODE): .decode
        case Int(OMNI_DICOM_ERR_MEMORY): .outOfMemory
        case Int(OMNI_DICOM_ERR_ARGUMENT): .invalidArgument
        default: .internalError
        }
        self.init(file: file, kind: kind, message.isEmpty ? "DICOM error \(code)" : message)
    }
}

/// The text in a NUL-terminated C buffer.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
