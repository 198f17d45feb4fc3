// `omni dicom info | pixels | export | anonymize` and `omni inspect` on DICOM files, end to end.
import Foundation
import Testing

@Suite(.serialized) struct DICOMCLITests {
    func asset(_ name: String) -> String {
        let path = assetsDirectory() + "/dicom/" + name
        #expect(FileManager.default.fileExists(atPath: path), "missing \(path): run scripts/fetch-assets (make test runs it)")
        return path
    }

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-dicom-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The header dictionary and data bytes of a version-1 .npy file.
    func npy(_ path: String) throws -> (header: String, data: [UInt8]) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        try #require(bytes.count > 10 && bytes[0] == 0x93 && bytes[6] == 1)
        let length = Int(bytes[8]) | Int(bytes[9]) << 8
        return (String(decoding: bytes[10..<(10 + length)], as: UTF8.self), Array(bytes[(10 + length)...]))
    }

    @Test func infoMasksPatientFieldsUnlessPHI() throws {
        let file = asset("CT_small.dcm")
        let r = try omni(["dicom", "info", file])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(!r.stdout.contains("CompressedSamples"), "patient name leaked: \(r.stdout)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any], "last line: \(r.lastLine)")
        #expect(json["patient_fields_masked"] as? Bool == true)
        let meta = try #require(json["metadata"] as? [String: Any])
        #expect(meta["modality"] as? String == "CT" && meta["rows"] as? Int == 128 && meta["rescale_intercept"] as? Double == -1024)
        #expect((meta["patient"] as? [String: Any])?["name"] as? String == "***")
        #expect(meta["transfer_syntax_uid"] as? String == "1.2.840.10008.1.2.1")
        let phi = try omni(["dicom", "info", file, "--phi"])
        #expect(phi.status == 0)
        let shown = try #require(jsonObject(phi.lastLine) as? [String: Any])
        #expect(((shown["metadata"] as? [String: Any])?["patient"] as? [String: Any])?["name"] as? String == "CompressedSamples^CT1")
    }

    @Test func pixelsWritesStoredDtypeAndRescaledFloat() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("mr.npy").path
        let r = try omni(["dicom", "pixels", asset("emri_small_jpeg_2k_lossless.dcm"), "--out", out])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any])
        #expect(json["dtype"] as? String == "uint16" && json["shape"] as? [Int] == [10, 64, 64])
        let stored = try npy(out)
        #expect(stored.header.contains("'descr': '<u2'") && stored.header.contains("(10, 64, 64)"))
        // equal to the uncompressed twin, written the same way
        let twin = dir.appendingPathComponent("twin.npy").path
        #expect(try omni(["dicom", "pixels", asset("emri_small.dcm"), "--out", twin]).status == 0)
        #expect(try npy(twin).data == stored.data)

        let hu = dir.appendingPathComponent("hu.npy").path
        let rr = try omni(["dicom", "pixels", asset("CT_small.dcm"), "--out", hu, "--rescale"])
        #expect(rr.status == 0, "stderr: \(rr.stderr)")
        let f = try npy(hu)
        #expect(f.header.contains("'descr': '<f4'") && f.header.contains("(1, 128, 128)"))
        let values = f.data.withUnsafeBytes { raw in (0..<(f.data.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
        #expect(values.count == 128 * 128 && values[0] == -849 && values.min() == -896 && values.max() == 1167)  // pydicom's HU
    }

    @Test func exportWritesAWindowedPNG() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let png = dir.appendingPathComponent("ct.png").path
        let r = try omni(["dicom", "export", asset("CT_small.dcm"), "--png", png, "--window", "40,400"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any])
        #expect(json["width"] as? Int == 128 && json["channels"] as? Int == 1)
        #expect((json["window"] as? [String: Any])?["width"] as? Double == 400)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let inspect = try omni(["inspect", png])
        #expect(inspect.status == 0 && inspect.lastLine.contains("\"width\":128"))
        // negative centre, a later frame, RGB
        #expect(try omni(["dicom", "export", asset("emri_small.dcm"), "--png", png, "--window=-10,2000", "--frame", "9"]).status == 0)
        let rgb = try omni(["dicom", "export", asset("US1_J2KR.dcm"), "--png", png])
        #expect(rgb.status == 0 && rgb.lastLine.contains("\"channels\":3"), "\(rgb.stderr)")
        // bad arguments name themselves
        let bad = try omni(["dicom", "export", asset("CT_small.dcm"), "--png", png, "--window", "40"])
        #expect(bad.status != 0 && bad.stderr.contains("--window"), "stderr: \(bad.stderr)")
        let frame = try omni(["dicom", "export", asset("CT_small.dcm"), "--png", png, "--frame", "3"])
        #expect(frame.status != 0 && frame.stderr.contains("frame 3"), "stderr: \(frame.stderr)")
    }

    @Test func anonymizeRemovesIdentityAndKeepsPixels() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("anon.dcm").path
        let input = asset("CT_small.dcm")
        let r = try omni(["dicom", "anonymize", input, out])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any])
        #expect((json["private_removed"] as? Int ?? 0) > 0 && (json["changed"] as? Int ?? 0) > 0)
        let info = try omni(["dicom", "info", out, "--phi"])
        #expect(!info.stdout.contains("CompressedSamples") && !info.stdout.contains("1CT1"), "\(info.stdout)")
        let a = dir.appendingPathComponent("a.npy").path, b = dir.appendingPathComponent("b.npy").path
        #expect(try omni(["dicom", "pixels", input, "--out", a]).status == 0)
        #expect(try omni(["dicom", "pixels", out, "--out", b]).status == 0)
        #expect(try npy(a).data == npy(b).data)
    }

    @Test func inspectSummarisesDICOMAndBadFilesFailInOneLine() throws {
        let r = try omni(["inspect", asset("US1_J2KR.dcm")])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any])
        #expect(json["format"] as? String == "dicom" && json["rows"] as? Int == 480 && json["samples_per_pixel"] as? Int == 3)
        #expect(json["transfer_syntax_uid"] as? String == "1.2.840.10008.1.2.4.90")

        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ct = [UInt8](try Data(contentsOf: URL(fileURLWithPath: asset("CT_small.dcm"))))
        let cases: [(String, [UInt8], [String])] = [
            ("truncated.dcm", Array(ct.prefix(ct.count / 2)), ["inspect"]),
            ("truncated2.dcm", Array(ct.prefix(ct.count / 2)), ["dicom", "info"]),
            ("empty.dcm", [], ["dicom", "info"]),
            ("image.dcm", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 200), ["dicom", "pixels"]),
        ]
        for (name, bytes, command) in cases {
            let path = dir.appendingPathComponent(name).path
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            var args = command + [path]
            if command.last == "pixels" { args += ["--out", dir.appendingPathComponent("x.npy").path] }
            let bad = try omni(args)
            #expect(bad.status != 0, "\(name) should fail")
            let lines = bad.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(path), "\(name): stderr was \(bad.stderr)")
        }
        let rt = try omni(["dicom", "pixels", asset("rtstruct.dcm"), "--out", dir.appendingPathComponent("y.npy").path])
        #expect(rt.status != 0 && rt.stderr.contains("Pixel Data"), "stderr: \(rt.stderr)")
    }
}
