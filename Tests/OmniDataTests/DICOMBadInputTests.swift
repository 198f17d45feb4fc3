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

    /// The process's peak resident memory in MiB (getrusage).
    func peakResidentMiB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss / 1024
    }

    /// Files that made GDCM allocate gigabytes before COmniDICOM's structural check followed the
    /// paths GDCM takes (Fixtures/dicom/bad, made by scripts/fixtures/make_dicom_bad_fixtures.py;
    /// the first two reproduce what Fuzz/FuzzDICOM found): a big-endian file GDCM re-reads as little
    /// endian after a missing VR, file meta information GDCM re-reads as implicit VR, a deflated
    /// data set, a sequence stored as UN, a byte-swapped implicit-VR sequence GDCM parses lazily, a
    /// sequence delimiter inside a sequence of defined length. Each declares 3.75 GB or more in a
    /// few hundred bytes; each is refused, naming the element, and nothing near that is allocated.
    @Test func gdcmFallbacksAreCheckedBeforeGDCMAllocates() throws {
        let before = peakResidentMiB()
        let cases: [(String, [String])] = [
            ("big-endian-invalid-vr.dcm", ["(0007,0000)", "no valid VR"]),
            ("meta-unknown-vr.dcm", ["file meta element (0002,0001)", "no valid VR"]),
            ("deflate-huge-length.dcm", ["(7FE0,0010) declares 4026531840 bytes", "inflated data set"]),
            ("un-sequence-huge-length.dcm", ["(0008,1140)", "(0008,1150) declares 4026531840 bytes"]),
            ("implicit-sequence-swapped-item.dcm", ["(0008,1140)", "encoding GDCM guesses at"]),
            ("delimiter-in-defined-sequence.dcm", ["sequence delimiter inside a sequence of defined length"]),
            // found by Fuzz/FuzzDICOM in an early version of the check (minimised with -minimize_crash):
            // encapsulated pixel data inside an item of defined length, running past the item
            ("fuzz-item-overrun.dcm", ["(7FE0,0010)", "runs past the end of its item"]),
        ]
        for (name, texts) in cases {
            let path = fixturePath("dicom/bad/\(name)")
            for text in texts { expectError(path, .corrupt, containing: text) }
            // the same bytes through the in-memory entry point and the anonymizer
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(throws: DICOMError.self) { try DICOMAnonymizer.anonymize(data, path: path) }
        }
        #expect(peakResidentMiB() - before < 1024, "peak RSS grew from \(before) MiB to \(peakResidentMiB()) MiB")
    }

    /// GDCM decodes RLE Lossless data while it opens a file, with a decoder that divides by the
    /// header's segment count and indexes its 15 offsets with it, and that allocates the image the
    /// attributes claim. Such files open (their metadata is fine); their pixels are refused.
    @Test func rleHeadersGDCMCannotSurviveAreRefused() throws {
        let before = peakResidentMiB()
        for (name, text) in [("rle-zero-segments.dcm", "0 segments in the RLE header"),
                             ("rle-too-many-segments.dcm", "33026 segments in the RLE header"),
                             ("rle-claims-huge-image.dcm", "cannot hold the 65535 × 65535 × 2-frame image")] {
            let path = fixturePath("dicom/bad/\(name)")
            let file = try DICOMFile(contentsOfFile: path)
            #expect(file.metadata.patient.name == "Doe^Jane")
            #expect(!file.metadata.hasPixelData)
            do {
                _ = try file.pixels()
                Issue.record("\(name): pixels were decoded")
            } catch {
                #expect(error.kind == .noPixelData && error.message.contains(text), "\(error)")
                #expect(error.file == path)
            }
        }
        #expect(peakResidentMiB() - before < 1024, "peak RSS grew from \(before) MiB to \(peakResidentMiB()) MiB")
        // the same image with a sound header decodes: one run of 8 per row, row r holds 10 × r
        let sound = try DICOMFile(contentsOfFile: fixturePath("dicom/bad/rle-sound.dcm")).pixels()
        #expect(sound.shape == [1, 8, 8])
        #expect(sound.integers() == (0..<64).map { 10 * ($0 / 8) })
    }

    /// GDCM's JPEG 2000 decoder sizes its buffer from Rows × Columns but fills it from the
    /// codestream: MR_small_jp2klossless.dcm (a 64 × 64 codestream) relabelled as 16 × 16 would
    /// overflow the heap by 7.5 KB. The codestream's SIZ header is checked against the attributes.
    @Test func jpeg2000CodestreamMustMatchTheAttributes() throws {
        let path = try #require(dicomAsset("MR_small_jp2klossless.dcm"))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var patched = 0
        for tag: [UInt8] in [[0x28, 0x00, 0x10, 0x00], [0x28, 0x00, 0x11, 0x00]] {  // Rows, Columns (US)
            let header = tag + Array("US".utf8) + [2, 0]
            let at = try #require((0..<(bytes.count - header.count)).first { Array(bytes[$0..<($0 + header.count)]) == header })
            bytes[at + header.count] = 16
            bytes[at + header.count + 1] = 0
            patched += 1
        }
        #expect(patched == 2)
        let file = try DICOMFile(data: Data(bytes), path: "relabelled.dcm")
        #expect(throws: DICOMError(file: "relabelled.dcm", kind: .corrupt,
                                   "JPEG 2000 fragment 1: the codestream is 64 × 64 with 1 components, the attributes say 16 × 16 with 1")) {
            try file.pixels()
        }
        // the untouched file still decodes
        #expect(try DICOMFile(contentsOfFile: path).pixels().shape == [1, 64, 64])
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
