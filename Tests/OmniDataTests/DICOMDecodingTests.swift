// DICOM decoding against pydicom 3.0.2 (fixture hashes and values) and lossless compressed files
// against their uncompressed twins, bit for bit.
import Foundation
import Testing
import OmniTensor
@testable import OmniData

@Suite struct DICOMDecodingTests {
    /// Decodes both files and expects identical shape, type and bytes; reports the first difference.
    func expectSamePixels(_ a: String, _ b: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let pa = try openDICOMAsset(a, sourceLocation: sourceLocation).pixels()
        let pb = try openDICOMAsset(b, sourceLocation: sourceLocation).pixels()
        #expect(pa.shape == pb.shape, "\(a) \(pa.shape) vs \(b) \(pb.shape)", sourceLocation: sourceLocation)
        #expect(pa.sampleType == pb.sampleType, "\(a) \(pa.sampleType) vs \(b) \(pb.sampleType)", sourceLocation: sourceLocation)
        if pa.bytes != pb.bytes {
            let va = pa.integers(), vb = pb.integers()
            let first = zip(va, vb).enumerated().first { $0.element.0 != $0.element.1 }
            let count = zip(va, vb).filter { $0 != $1 }.count
            let at = first?.offset ?? -1, x = first?.element.0 ?? 0, y = first?.element.1 ?? 0
            Issue.record("\(a) vs \(b): \(count) of \(va.count) values differ; first at \(at): \(x) vs \(y)",
                         sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [
        ("MR_small.dcm", "MR_small_RLE.dcm"),
        ("MR_small.dcm", "MR_small_jpeg_ls_lossless.dcm"),
        ("MR_small.dcm", "MR_small_jp2klossless.dcm"),
        ("MR_small.dcm", "MR_small_bigendian.dcm"),
        ("MR_small.dcm", "MR_small_implicit.dcm"),
        ("emri_small.dcm", "emri_small_RLE.dcm"),
        ("emri_small.dcm", "emri_small_jpeg_ls_lossless.dcm"),
        ("emri_small.dcm", "emri_small_jpeg_2k_lossless.dcm"),
        ("emri_small.dcm", "emri_small_big_endian.dcm"),
        ("US1_UNCR.dcm", "US1_J2KR.dcm"),
        ("SC_rgb_16bit.dcm", "SC_rgb_rle_16bit.dcm"),
        ("SC_rgb_32bit_2frame.dcm", "SC_rgb_rle_32bit_2frame.dcm"),
        ("SC_rgb_small_odd.dcm", "SC_rgb_small_odd_big_endian.dcm"),
        ("color-px.dcm", "color-pl.dcm"),
        ("rtdose.dcm", "rtdose_expb.dcm"),
        ("rtdose.dcm", "rtdose_rle.dcm"),
    ])
    func losslessTwinsDecodeIdentically(_ twins: (String, String)) throws {
        try expectSamePixels(twins.0, twins.1)
    }

    @Test func everyFileMatchesPydicom() throws {
        let reference = try PydicomReference.load()
        #expect(reference.files.count >= 30, "the fixture lists \(reference.files.count) files")
        for (name, entry) in reference.files.sorted(by: { $0.key < $1.key }) {
            let pixels = try openDICOMAsset(name).pixels()
            #expect(pixels.shape == entry.shape, "\(name): shape \(pixels.shape), pydicom \(entry.shape)")
            #expect(pixels.sampleType.rawValue == entry.dtype, "\(name): \(pixels.sampleType), pydicom \(entry.dtype)")
            if let stride = entry.sample_stride, let sample = entry.sample {
                // Lossy JPEG: GDCM's IJG decoder (and, for YBR, the colour conversion) may differ from
                // pydicom's libjpeg-turbo by a few levels.
                let values = pixels.integers()
                let ours = stride == 1 ? values : stride > 0 ? (0..<sample.count).map { values[$0 * stride] } : []
                #expect(ours.count == sample.count, "\(name): \(ours.count) sampled values, pydicom \(sample.count)")
                let diffs = zip(ours, sample).map { abs($0 - $1) }
                let worst = diffs.enumerated().max { $0.element < $1.element }
                let mean = Double(diffs.reduce(0, +)) / Double(max(1, diffs.count))
                #expect((worst?.element ?? 0) <= 3 && mean < 0.5,
                        "\(name): max |diff| \(worst?.element ?? 0) at sample \(worst?.offset ?? -1), mean \(mean)")
            } else {
                #expect(fnv1a64(bytes: pixels.bytes) == entry.fnv1a64, "\(name): decoded bytes differ from pydicom's")
            }
        }
    }

    @Test func ctSmallRescaledEqualsPydicom() throws {
        let ref = try PydicomReference.load().ct_small_rescaled
        let file = try openDICOMAsset(ref.file)
        #expect(file.metadata.modality == "CT")
        #expect(file.metadata.rescaleSlope == 1 && file.metadata.rescaleIntercept == -1024)
        let hu = try file.rescaledTensor()
        #expect(hu.shape == ref.shape && hu.dtype == .float32)
        let values = hu.toArray()
        for (i, index) in ref.indices.enumerated() {
            #expect(values[index] == ref.values[i], "HU at \(index): \(values[index]), pydicom \(ref.values[i])")
        }
        #expect(values.min() == ref.min && values.max() == ref.max)
        #expect(values.reduce(0.0) { $0 + Double($1) } == ref.sum)
        let bytes = values.withUnsafeBytes { Array($0) }
        #expect(fnv1a64(bytes: bytes) == ref.fnv1a64, "rescaled float32 bytes differ from pydicom's")
    }

    @Test func metadataOfCTSmall() throws {
        let m = try openDICOMAsset("CT_small.dcm").metadata
        #expect(m.transferSyntaxUID == "1.2.840.10008.1.2.1")
        #expect(m.transferSyntaxName == "Explicit VR Little Endian")
        #expect(m.rows == 128 && m.columns == 128 && m.frames == 1 && m.samplesPerPixel == 1)
        #expect(m.bitsAllocated == 16 && m.bitsStored == 16 && m.pixelRepresentation == 1)
        #expect(m.photometricInterpretation == "MONOCHROME2")
        #expect(m.pixelSpacing == [0.661468, 0.661468])
        #expect(m.sliceThickness == 5)
        #expect(m.patient.name == "CompressedSamples^CT1")
        #expect(m.patient.id == "1CT1")
        #expect(m.study.instanceUID == "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322")
        #expect(m.series.instanceUID == "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322")
        let masked = m.masked()
        #expect(masked.patient.name == DICOMMetadata.maskText && masked.patient.id == DICOMMetadata.maskText)
        #expect(masked.study.instanceUID == m.study.instanceUID)
        // JSON round trip with snake_case keys
        let json = try JSONEncoder().encode(m)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"rescale_intercept\":-1024") && text.contains("\"pixel_spacing\""))
        #expect(try JSONDecoder().decode(DICOMMetadata.self, from: json) == m)
    }

    @Test func windowAndTransferSyntaxMetadata() throws {
        let mr = try openDICOMAsset("MR_small_jpeg_ls_lossless.dcm").metadata
        #expect(mr.transferSyntaxUID == "1.2.840.10008.1.2.4.80")
        let emri = try openDICOMAsset("emri_small.dcm").metadata
        #expect(emri.frames == 10 && emri.bitsStored == 12)
        #expect(emri.windowCenter.isEmpty && emri.windowWidth.isEmpty)
        let small = try openDICOMAsset("MR_small.dcm")
        #expect(small.metadata.windowCenter == [600] && small.metadata.windowWidth == [1600])
        #expect(small.defaultWindow == DICOMWindow(center: 600, width: 1600))
        let shown = try small.windowedImage()  // the file's own window
        #expect(shown.samples8 == DICOMWindow(center: 600, width: 1600).apply(to: try small.rescaledTensor().toArray()))
        let dfl = try openDICOMAsset("image_dfl.dcm").metadata
        #expect(dfl.transferSyntaxUID == "1.2.840.10008.1.2.1.99")
        let ybr = try openDICOMAsset("SC_rgb_dcmtk_+eb+cy+np.dcm")
        #expect(ybr.metadata.photometricInterpretation == "YBR_FULL_422")
        #expect(try ybr.pixels().photometricInterpretation == "RGB")
        #expect(try ybr.pixels(convertingYBRToRGB: false).photometricInterpretation == "YBR_FULL_422")
    }

    @Test func tensorsKeepStoredValues() throws {
        let file = try openDICOMAsset("MR_small.dcm")
        let pixels = try file.pixels()
        #expect(pixels.sampleType == .int16 && pixels.shape == [1, 64, 64])
        let t = pixels.tensor()
        #expect(t.dtype == .int32 && t.shape == [1, 64, 64])
        #expect(t.toIntArray() == pixels.integers())
        let rgb = try openDICOMAsset("US1_UNCR.dcm").pixels()
        #expect(rgb.shape == [1, 480, 640, 3] && rgb.tensor().dtype == .uint8)
        let dose = try openDICOMAsset("rtdose.dcm").pixels()
        #expect(dose.sampleType == .uint32 && dose.tensor().dtype == .int64)
        #expect(dose.tensor().toIntArray() == dose.integers())
        let bits = try openDICOMAsset("liver_1frame.dcm").pixels()
        #expect(bits.sampleType == .uint8 && Set(bits.bytes).isSubset(of: [0, 1]) && bits.bytes.contains(1))
    }

    @Test func memoryAndFileGiveTheSameResult() throws {
        let path = try #require(dicomAsset("emri_small_jpeg_2k_lossless.dcm"))
        let fromFile = try DICOMFile(contentsOfFile: path)
        let fromData = try DICOMFile(data: Data(contentsOf: URL(fileURLWithPath: path)), path: "memory.dcm")
        #expect(fromFile.metadata == fromData.metadata)
        #expect(try fromFile.pixels().bytes == fromData.pixels().bytes)
        #expect(fromData.path == "memory.dcm")
    }

    @Test func windowFunctionMatchesTheStandard() {
        // PS3.3 C.11.2.1.2.1, in Float64 here
        func reference(_ x: Double, _ c: Double, _ w: Double) -> UInt8 {
            if x <= c - 0.5 - (w - 1) / 2 { return 0 }
            if x > c - 0.5 + (w - 1) / 2 { return 255 }
            return UInt8(((x - (c - 0.5)) / (w - 1) + 0.5) * 255 + 0.5)
        }
        let values: [Float] = [-2000, -160.5, -160, -159.5, -100, 0, 39.5, 40, 40.5, 100, 239, 239.5, 240, 3000]
        for window in [DICOMWindow(center: 40, width: 400), DICOMWindow(center: -600, width: 1500), DICOMWindow(center: 0, width: 1),
                       DICOMWindow(center: 0.5, width: 2)] {
            let got = window.apply(to: values)
            let want = values.map { reference(Double($0), window.center, window.width) }
            #expect(got == want, "window \(window): \(got) vs \(want)")
            #expect(window.apply(to: values, inverted: true) == want.map { 255 - $0 })
        }
    }

    @Test func exportWindowsRescaledValues() throws {
        let file = try openDICOMAsset("CT_small.dcm")
        let window = DICOMWindow(center: 40, width: 400)
        let image = try file.windowedImage(window: window)
        #expect(image.width == 128 && image.height == 128 && image.channels == 1)
        let hu = try file.rescaledTensor().toArray()
        #expect(image.samples8 == window.apply(to: hu))
        // no window in the file: the frame's value range
        let spanning = try file.windowedImage()
        #expect(spanning.samples8 == DICOMWindow.spanning(hu).apply(to: hu))
        #expect(spanning.samples8?.min() == 0 && spanning.samples8?.max() == 255)
        // a colour frame comes out as RGB, untouched
        let rgb = try openDICOMAsset("US1_UNCR.dcm")
        let png = try rgb.windowedImage()
        let stored = try rgb.pixels().bytes
        #expect(png.channels == 3 && png.samples8 == stored)
        // frame selection
        let emri = try openDICOMAsset("emri_small.dcm")
        let third = try emri.windowedImage(frame: 2, window: DICOMWindow(center: 500, width: 1000))
        let values = try emri.rescaledTensor().toArray()
        #expect(third.samples8 == DICOMWindow(center: 500, width: 1000).apply(to: Array(values[(2 * 4096)..<(3 * 4096)])))
        #expect(throws: DICOMError.self) { try emri.windowedImage(frame: 10) }
    }
}
