// Bad DICOM input: empty, truncated, corrupt, wrong type, absurd sizes → DICOMError naming the
// file, in bounded time and memory, never a crash; plus a seeded sweep of mutated files.
import Foundation
import Testing
@testable import OmniData

@Suite struct DICOMBadInputTests {
    func expectError(_ path: String, _ kind: DICOMError.Kind? = nil, containing text: String? = nil,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let file = try DICOMFile(contentsOfFile: path)
            _ = try file.pixels()
            Issue.record("\(path) was accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(error.file == path, "error names \(error.file)", sourceLocation: sourceLocation)
            if let kind { #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation) }
            if let text { #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation) }
        }
    }

    @Test func emptyMissingAndDirectory() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.cleanup() }
        expectError(scratch.write("empty.dcm", []), .empty)
        expectError(scratch.path("missing.dcm"), .io, containing: "cannot open")
        expectError(scratch.url.path, .io, containing: "directory")
        #expect(throws: DICOMError.self) { try DICOMFile(data: Data(), path: "nothing") }
    }

    @Test func wrongType() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.cleanup() }
        expectError(imageFixture("png_gray2.png"), .notDICOM, containing: "not a DICOM file")
        expectError(scratch.write("text.dcm", Array("hello, this is not DICOM at all\n".utf8)), .notDICOM)
        expectError(scratch.write("zeros.dcm", [UInt8](repeating: 0, count: 4096)), .notDICOM)
    }

    @Test func truncated() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.cleanup() }
        let path = try #require(dicomAsset("CT_small.dcm"))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for cut in [131, 140, 500, 1000, bytes.count / 2, bytes.count - 1] {
            expectError(scratch.write("cut\(cut).dcm", Array(bytes.prefix(cut))))
        }
        expectError(scratch.write("cut-end.dcm", Array(bytes.prefix(bytes.count - 100))), .corrupt, containing: "declares")
        let mr = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try #require(dicomAsset("MR_small.dcm")))))
        expectError(scratch.write("cut-pixels.dcm", Array(mr.prefix(mr.count - 1000))), .corrupt, containing: "(7FE0,0010)")
        expectError(try #require(dicomAsset("MR_truncated.dcm")), .corrupt, containing: "declares 8192 bytes")
        // compressed frames cut short
        let j2k = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try #require(dicomAsset("US1_J2KR.dcm")))))
        expectError(scratch.write("j2k-cut.dcm", Array(j2k.prefix(j2k.count * 2 / 3))), .corrupt)
    }

    @Test func corruptLengthsAreRejectedBeforeAllocating() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.cleanup() }
        // a 3 GB value declared in a file of a few hundred bytes
        let huge = DICOMWriter.image(rows: 4, columns: 4, frames: 1, pixelBytes: [UInt8](repeating: 7, count: 32),
                                     declaredPixelLength: 0xC000_0000)
        expectError(scratch.write("huge-length.dcm", huge), .corrupt, containing: "declares 3221225472 bytes")
        // the hand-made file is otherwise valid
        let fine = DICOMWriter.image(rows: 4, columns: 4, frames: 1, pixelBytes: (0..<32).map { UInt8($0) })
        let file = try DICOMFile(data: Data(fine), path: "fine.dcm")
        #expect(try file.pixels().integers() == (0..<16).map { 2 * $0 + (2 * $0 + 1) * 256 })
    }

    @Test func absurdSizesAreRejectedBeforeDecoding() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.cleanup() }
        // 65535 × 65535 × 99999 frames × 2 bytes claimed, 32 bytes present
        let absurd = DICOMWriter.image(rows: 65535, columns: 65535, frames: 99999, pixelBytes: [UInt8](repeating: 1, count: 32))
        let path = scratch.write("absurd.dcm", absurd)
        do {
            let file = try DICOMFile(contentsOfFile: path)
            _ = try file.pixels()
            Issue.record("absurd sizes were accepted")
        } catch {
            #expect(error.file == path)
            #expect(error.kind == .tooLarge || error.kind == .corrupt || error.kind == .unsupported, "\(error)")
        }
        // sizes that fit the limit but not the data: GDCM's length check
        let short = DICOMWriter.image(rows: 64, columns: 64, frames: 2, pixelBytes: [UInt8](repeating: 1, count: 100))
        expectError(scratch.write("short.dcm", short), .corrupt, containing: "Pixel Data holds 100 bytes, the image needs 16384")
        // a valid file under a small decode limit
        let ct = try openDICOMAsset("CT_small.dcm")
        #expect(throws: DICOMError(file: ct.path, kind: .tooLarge,
                                   "the decoded image would be 128 rows × 128 columns × 1 frames × 1 samples × 2 bytes, above the 1000-byte limit")) {
            try ct.pixels(maximumBytes: 1000)
        }
        #expect(throws: DICOMError.self) { try DICOMFile(contentsOfFile: ct.path, maximumFileSize: 100) }
    }

    @Test func noPixelData() throws {
        let file = try openDICOMAsset("rtstruct.dcm")
        #expect(!file.metadata.hasPixelData)
        #expect(file.metadata.modality == "RTSTRUCT")
        #expect(throws: DICOMError.self) { try file.pixels() }
        do { _ = try file.pixels() } catch { #expect(error.kind == .noPixelData, "\(error)") }
    }

    /// Seeded mutations (byte flips, truncations, length fields) of small files: every result is a
    /// decoded image or a DICOMError, never a crash.
    @Test func mutatedFilesNeverCrash() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        var accepted = 0, rejected = 0
        for name in ["MR_small.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm",
                     "SC_rgb_jpeg_dcmtk.dcm", "rtdose_1frame.dcm"] {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try #require(dicomAsset(name)))))
            for trial in 0..<60 {
                var bytes = original
                switch trial % 3 {
                case 0:
                    for _ in 0..<(1 + Int(next() % 8)) { bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next()) }
                case 1:
                    bytes = Array(bytes.prefix(Int(next() % UInt64(bytes.count))))
                default:
                    // 0xFF bytes over a random spot: huge lengths, odd tags
                    let at = Int(next() % UInt64(bytes.count))
                    for i in at..<min(bytes.count, at + 4) { bytes[i] = 0xFF }
                }
                do {
                    let file = try DICOMFile(data: Data(bytes), path: "\(name)#\(trial)")
                    _ = try file.pixels(maximumBytes: 64 << 20)
                    _ = try DICOMAnonymizer.anonymizedData(of: file)
                    accepted += 1
                } catch {
                    #expect(error.file == "\(name)#\(trial)")
                    rejected += 1
                }
            }
        }
        #expect(accepted + rejected == 360 && rejected > 0)
    }
}
