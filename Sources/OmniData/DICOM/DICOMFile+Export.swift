import Foundation
import OmniTensor

extension DICOMFile {
    /// One frame as an 8-bit image for display or export.
    ///
    /// Grayscale frames are rescaled (Modality LUT) and windowed with `window`, else the file's first
    /// Window Center/Width, else the window spanning the frame's values; MONOCHROME1 is inverted so
    /// that the PNG looks as intended. RGB frames (including converted YBR) are written as RGB:
    /// 8-bit as stored, wider samples scaled down from Bits Stored; `window` does not apply to them.
    /// PALETTE COLOR frames are refused: the palette lookup is not applied here.
    public func windowedImage(frame: Int = 0, window: DICOMWindow? = nil) throws(DICOMError) -> Image {
        let m = metadata
        if !m.hasPixelData { _ = try pixels() }  // throws the reason there is no image
        guard (0..<m.frames).contains(frame) else {
            throw DICOMError(file: path, kind: .invalidArgument, "frame \(frame) is out of range (the file has \(m.frames) frame(s), numbered from 0)")
        }
        if let window, !(window.width >= 1) || !window.center.isFinite {
            throw DICOMError(file: path, kind: .invalidArgument, "window width \(window.width) must be at least 1")
        }
        if m.photometricInterpretation.hasPrefix("PALETTE") {
            throw DICOMError(file: path, kind: .unsupported, "PALETTE COLOR export is not supported (the palette lookup table is not applied)")
        }
        let p = try pixels()
        let perFrame = p.rows * p.columns * p.samplesPerPixel
        if p.samplesPerPixel == 3 {
            let values = Array(p.integers()[(frame * perFrame)..<((frame + 1) * perFrame)])
            let shift = max(0, (p.sampleType.byteCount == 1 ? 8 : m.bitsStored) - 8)
            let rgb = values.map { UInt8(clamping: $0 >> shift) }
            return Image(width: p.columns, height: p.rows, channels: 3, pixels: rgb)
        }
        let all = p.rescaled(slope: m.rescaleSlope, intercept: m.rescaleIntercept).toArray()
        let values = Array(all[(frame * perFrame)..<((frame + 1) * perFrame)])
        let chosen = window ?? defaultWindow ?? DICOMWindow.spanning(values)
        let gray = chosen.apply(to: values, inverted: m.photometricInterpretation == "MONOCHROME1")
        return Image(width: p.columns, height: p.rows, channels: 1, pixels: gray)
    }

    /// The file's first VOI window, when it has a usable one.
    public var defaultWindow: DICOMWindow? {
        guard let c = metadata.windowCenter.first, let w = metadata.windowWidth.first, w >= 1 else { return nil }
        return DICOMWindow(center: c, width: w)
    }
}
