// `omni dicom info | pixels | export | anonymize`: DICOM metadata (patient fields masked unless
// --phi), pixel data as .npy, a windowed frame as PNG, and PS3.15 Basic Profile de-identification.
import ArgumentParser
import Foundation
import OmniData
import OmniNN
import OmniTensor

struct DICOMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dicom",
        abstract: "DICOM files: metadata, pixels, PNG export, de-identification.",
        subcommands: [DICOMInfoCommand.self, DICOMPixelsCommand.self, DICOMExportCommand.self, DICOMAnonymizeCommand.self])
}

/// Opens a DICOM file for a command: a missing file or a DICOMError becomes one CLI error line.
func openDICOM(_ path: String) throws -> DICOMFile {
    guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path): no such file") }
    do { return try DICOMFile(contentsOfFile: path) } catch { throw CLIError(error.description) }
}

/// One-line description of the image attributes.
func dicomImageLine(_ m: DICOMMetadata) -> String {
    guard m.hasPixelData else { return "no image (no decodable Pixel Data)" }
    let sign = m.pixelRepresentation == 1 ? "signed" : "unsigned"
    return "\(m.rows)×\(m.columns), \(m.frames) frame(s), \(m.samplesPerPixel) sample(s)/pixel, " +
        "\(m.photometricInterpretation), \(m.bitsAllocated)-bit allocated (\(m.bitsStored) stored), \(sign)" +
        (m.lossy ? ", lossy" : "")
}

struct DICOMInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Prints a DICOM file's metadata: image attributes, rescale, window, spacing, study and series.",
        discussion: """
            Patient name, ID, birth date, sex and age, the accession number, the referring physician and the \
            institution are shown as *** unless --phi is given. The last line of stdout is the metadata as a \
            JSON object (snake_case keys).
            """)

    @Argument(help: "The DICOM file.") var file: String
    @Flag(help: "Show protected health information (patient fields) instead of masking it.") var phi = false
    @OptionGroup var global: GlobalOptions

    struct Report: Encodable {
        let file: String
        let patient_fields_masked: Bool
        let metadata: DICOMMetadata
    }

    func run() throws {
        _ = try global.makeLogger("omni.dicom.info")
        let dicom = try openDICOM(file)
        let m = phi ? dicom.metadata : dicom.metadata.masked()
        func show(_ s: String?) -> String { s.map { $0.isEmpty ? "(empty)" : $0 } ?? "(absent)" }
        print("\(file): DICOM \(m.modality ?? "(no modality)"), \(m.transferSyntaxName.isEmpty ? "unknown transfer syntax" : m.transferSyntaxName) (\(m.transferSyntaxUID))")
        print("image: \(dicomImageLine(m))")
        if m.hasPixelData {
            var line = "rescale: slope \(m.rescaleSlope), intercept \(m.rescaleIntercept)"
            if let c = m.windowCenter.first, let w = m.windowWidth.first { line += "; window \(c)/\(w)" }
            if let s = m.pixelSpacing { line += "; pixel spacing \(s[0]) × \(s[1]) mm" }
            print(line)
        }
        print("patient: name \(show(m.patient.name)), id \(show(m.patient.id)), birth date \(show(m.patient.birthDate)), sex \(show(m.patient.sex))" +
              (phi ? "" : " (masked; --phi shows them)"))
        print("study: date \(show(m.study.date)), description \(show(m.study.description)), uid \(show(m.study.instanceUID))")
        print("series: number \(show(m.series.number)), description \(show(m.series.description)), uid \(show(m.series.instanceUID))")
        try printJSONLine(Report(file: file, patient_fields_masked: !phi, metadata: m))
    }
}

struct DICOMPixelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pixels",
        abstract: "Writes a DICOM file's pixel data as .npy: stored values with the stored dtype, or rescaled float32.",
        discussion: """
            Shape [frames, rows, columns] for one sample per pixel, else [frames, rows, columns, samples] \
            (RGB; 8-bit YBR_FULL/YBR_FULL_422 is converted to RGB as pydicom does). The dtype is the stored \
            one (uint8, int8, <u2, <i2, <u4, <i4; 1-bit data as uint8 0/1). --rescale writes float32 values \
            after Rescale Slope/Intercept (Hounsfield units for CT). The last line of stdout is a JSON object.
            """)

    @Argument(help: "The DICOM file.") var file: String
    @Option(help: "Output .npy file.") var out: String
    @Flag(help: "Apply Rescale Slope and Intercept and write float32.") var rescale = false
    @OptionGroup var global: GlobalOptions

    struct Result: Encodable { let file: String; let out: String; let dtype: String; let shape: [Int]; let rescaled: Bool }

    func run() throws {
        _ = try global.makeLogger("omni.dicom.pixels")
        let dicom = try openDICOM(file)
        let pixels: DICOMPixels
        do { pixels = try dicom.pixels() } catch { throw CLIError(error.description) }
        let dtype: String
        do {
            if rescale {
                let m = dicom.metadata
                try NPY.write(pixels.rescaled(slope: m.rescaleSlope, intercept: m.rescaleIntercept), to: out)
                dtype = "float32"
            } else {
                try pixels.bytes.withUnsafeBytes {
                    try NPY.write(rawBytes: $0, descriptor: pixels.sampleType.numpyDescriptor, shape: pixels.shape, to: out)
                }
                dtype = pixels.sampleType.rawValue
            }
        } catch { throw CLIError("--out \(out): \(error)") }
        print("\(file): \(pixels.photometricInterpretation) \(dtype) \(pixels.shape)\(rescale ? " (rescaled)" : "") → \(out)")
        try printJSONLine(Result(file: file, out: out, dtype: dtype, shape: pixels.shape, rescaled: rescale))
    }
}

struct DICOMExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Writes one frame of a DICOM file as an 8-bit PNG.",
        discussion: """
            Grayscale frames are rescaled and windowed (PS3.3 C.11.2.1.2 linear VOI function) with --window \
            CENTER,WIDTH in rescaled units (e.g. --window=-600,1500 for lungs; write '=' before a negative \
            centre), else the file's own window, else the frame's value range; MONOCHROME1 is inverted. RGB \
            frames are written as RGB. Frames are numbered from 0. The last line of stdout is a JSON object.
            """)

    @Argument(help: "The DICOM file.") var file: String
    @Option(help: "Output PNG file.") var png: String
    @Option(help: "VOI window as CENTER,WIDTH (width at least 1).") var window: String?
    @Option(help: "Frame to export, from 0.") var frame = 0
    @OptionGroup var global: GlobalOptions

    struct WindowJSON: Encodable { let center: Double; let width: Double }
    struct Result: Encodable {
        let file: String; let out: String; let frame: Int; let width: Int; let height: Int; let channels: Int
        let window: WindowJSON?
    }

    func parsedWindow() throws -> DICOMWindow? {
        guard let window else { return nil }
        let parts = window.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let c = parts[0], let w = parts[1], c.isFinite, w.isFinite else {
            throw ValidationError("--window must be CENTER,WIDTH (two numbers), got '\(window)'")
        }
        guard w >= 1 else { throw ValidationError("--window width must be at least 1, got \(w)") }
        return DICOMWindow(center: c, width: w)
    }

    func validate() throws {
        _ = try parsedWindow()
        guard frame >= 0 else { throw ValidationError("--frame must be 0 or more, got \(frame)") }
    }

    func run() throws {
        _ = try global.makeLogger("omni.dicom.export")
        let dicom = try openDICOM(file)
        let requested = try parsedWindow()
        let image: Image
        do { image = try dicom.windowedImage(frame: frame, window: requested) } catch { throw CLIError(error.description) }
        do { try image.write(toFile: png) } catch { throw CLIError("--png \(png): \(error.message)") }
        let used: DICOMWindow? = image.channels == 1 ? (requested ?? dicom.defaultWindow) : nil
        print("\(file): frame \(frame) → \(png) (\(image.width)×\(image.height), \(image.channels == 1 ? "gray" : "RGB")" +
              (used.map { ", window \($0.center)/\($0.width)" } ?? (image.channels == 1 ? ", window from the value range" : "")) + ")")
        try printJSONLine(Result(file: file, out: png, frame: frame, width: image.width, height: image.height,
                                 channels: image.channels, window: used.map { WindowJSON(center: $0.center, width: $0.width) }))
    }
}

struct DICOMAnonymizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anonymize",
        abstract: "De-identifies a DICOM file (PS3.15 Basic Application Level Confidentiality Profile).",
        discussion: """
            Every attribute of the profile's table is removed, emptied, replaced with a dummy value or given \
            a new UID (consistent within the file), in nested sequences too; private attributes are removed; \
            Patient Identity Removed is set to YES. Pixel data is untouched (burned-in text stays). The output \
            is written atomically. The last line of stdout is a JSON object.
            """)

    @Argument(help: "The DICOM file to de-identify.") var input: String
    @Argument(help: "Where to write the de-identified file.") var output: String
    @OptionGroup var global: GlobalOptions

    struct Result: Encodable {
        let file: String; let out: String; let profile: String
        let removed: Int; let changed: Int; let private_removed: Int
    }

    func run() throws {
        _ = try global.makeLogger("omni.dicom.anonymize")
        let before = try openDICOM(input)
        do { try DICOMAnonymizer.anonymize(contentsOfFile: input, to: output) } catch { throw CLIError(error.description) }
        let after = try openDICOM(output)
        let kept = Set(after.tags)
        let removedTags = before.tags.filter { !kept.contains($0) }
        let changed = before.tags.filter { kept.contains($0) && $0.group != 0x0002 && before.string($0) != after.string($0) }
        print("\(input) → \(output): \(removedTags.count) attribute(s) removed (\(removedTags.filter(\.isPrivate).count) private), " +
              "\(changed.count) replaced or emptied; pixel data untouched")
        try printJSONLine(Result(file: input, out: output, profile: "PS3.15 E.1 Basic Application Level Confidentiality Profile",
                                 removed: removedTags.count, changed: changed.count,
                                 private_removed: removedTags.filter(\.isPrivate).count))
    }
}

/// `omni inspect` on a DICOM file: image attributes and modality, patient fields never shown.
func inspectDICOM(_ path: String) throws {
    struct Report: Encodable {
        let file: String; let format: String; let modality: String?; let transfer_syntax_uid: String
        let transfer_syntax_name: String; let rows: Int; let columns: Int; let frames: Int
        let samples_per_pixel: Int; let bits_allocated: Int; let photometric_interpretation: String
    }
    let m = try openDICOM(path).metadata
    print("\(path): DICOM \(m.modality ?? "(no modality)"), \(m.transferSyntaxName) — \(dicomImageLine(m))")
    try printJSONLine(Report(file: path, format: "dicom", modality: m.modality, transfer_syntax_uid: m.transferSyntaxUID,
                             transfer_syntax_name: m.transferSyntaxName, rows: m.rows, columns: m.columns, frames: m.frames,
                             samples_per_pixel: m.samplesPerPixel, bits_allocated: m.bitsAllocated,
                             photometric_interpretation: m.photometricInterpretation))
}
