// VideoWriter through FFmpeg, read back with VideoReader: FFV1 is lossless (every RGB byte comes
// back), MPEG-4 Part 2 stays within a measured PSNR; output bytes are deterministic; writes are
// atomic; bad input throws a VideoError naming the file.
import Foundation
import Testing
import OmniTensor
@testable import OmniData

/// A fresh folder under the temporary directory, removed by the caller.
private func scratchFolder() throws -> String {
    let path = NSTemporaryDirectory() + "omni-vwriter-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func files(in folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
}

/// A demo-corpus motion clip: a shape moving across a noisy background.
private func motionClip(frames: Int = 8, side: Int = 64, seed: UInt64 = 3) -> [Image] {
    MotionClip.render(shape: .star, color: .yellow, direction: .right, frames: frames, side: side, generator: Generator(seed: seed))
}

/// Uniformly random RGB frames (the worst case for a codec's prediction).
private func noiseFrames(_ count: Int, width: Int, height: Int, seed: UInt64) -> [Image] {
    let g = Generator(seed: seed)
    return (0..<count).map { _ in
        Image(width: width, height: height, channels: 3, pixels: (0..<(width * height * 3)).map { _ in UInt8(g.nextInt(below: 256)) })
    }
}

/// PSNR in dB of 8-bit `got` against `want` over all frames, and the largest difference.
private func psnr(_ got: [Image], _ want: [Image]) -> (db: Double, worst: Int) {
    var squared = 0.0, count = 0, worst = 0
    for (a, b) in zip(got, want) {
        for (x, y) in zip(bytes(a), bytes(b)) {
            let d = Int(x) - Int(y)
            squared += Double(d * d)
            worst = Swift.max(worst, Swift.abs(d))
            count += 1
        }
    }
    return (10 * Foundation.log10(255 * 255 / (squared / Double(count))), worst)
}

@Suite struct VideoWriterTests {
    @Test func ffv1RoundTripIsLossless() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let frames = motionClip()
        let path = folder + "/clip.mkv"
        try VideoWriter.write(frames, fps: 8, to: path)
        #expect(files(in: folder) == ["clip.mkv"], "only the video is left in the folder")
        let video = try VideoReader(contentsOf: path)
        let info = video.info
        #expect(info.codec == "ffv1" && info.format == "matroska,webm" && info.pixelFormat == "bgr0")
        #expect(info.width == 64 && info.height == 64 && info.frameCount == 8 && info.fps == 8 && info.duration == 1)
        #expect(!info.hasAudio)
        for i in 0..<8 {
            #expect(video.time(ofFrame: i) == Double(i) / 8, "frame \(i) time")
            let back = try video.frame(at: i)
            let (_, worst) = psnr([back], [frames[i]])
            #expect(back == frames[i], "frame \(i): largest difference \(worst)")
        }
        // random access (every frame is a key frame): backwards and repeated
        for i in [7, 2, 2, 0, 5] { #expect(try video.frame(at: i) == frames[i], "frame \(i) read out of order") }
    }

    @Test(arguments: [(1, 1), (1, 5), (5, 1), (2, 2), (3, 2), (17, 9), (33, 70)])
    func ffv1IsLosslessAtAnySize(width: Int, height: Int) throws {
        // FFmpeg 5.1's FFV1 version 3 loses pixels when a side is 1 or 2; version 1 must not.
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let frames = noiseFrames(3, width: width, height: height, seed: UInt64(width * 100 + height))
        let path = folder + "/noise.mkv"
        try VideoWriter.write(frames, fps: 30, to: path)
        let video = try VideoReader(contentsOf: path)
        #expect(video.info.width == width && video.info.height == height && video.info.frameCount == 3 && video.info.fps == 30)
        for i in 0..<3 {
            let back = try video.frame(at: i)
            #expect(back == frames[i], "\(width)×\(height) frame \(i): largest difference \(psnr([back], [frames[i]]).worst)")
        }
    }

    @Test func mpeg4StaysWithinMeasuredQuality() throws {
        // Lossy: 4:2:0 chroma and quantisation. Measured on this clip (a yellow star on a dark
        // background, whose colour edges lose most to 4:2:0: largest differences ~130) with
        // FFmpeg 5.1: quantizer 2 → 33.8 dB, 3 → 33.0 dB, 31 → 27.5 dB PSNR; the floors leave ~1 dB.
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let frames = motionClip(frames: 12, side: 64)
        var previous = Double.infinity, sizes: [Int] = []
        for (q, floor) in [(2, 32.8), (3, 32.0), (31, 26.5)] {
            let path = folder + "/clip-q\(q).mp4"
            try VideoWriter.write(frames, fps: 12, to: path, codec: .mpeg4(quantizer: q))
            let video = try VideoReader(contentsOf: path)
            #expect(video.info.codec == "mpeg4" && video.info.format.hasPrefix("mov,mp4") && video.info.pixelFormat == "yuv420p")
            #expect(video.info.width == 64 && video.info.height == 64 && video.info.frameCount == 12 && video.info.fps == 12)
            let back = try (0..<12).map { try video.frame(at: $0) }
            let (db, worst) = psnr(back, frames)
            #expect(db >= floor, "quantizer \(q): \(db) dB, largest difference \(worst)")
            #expect(db < previous, "quantizer \(q) should lose more than the one before")
            previous = db
            sizes.append(try Data(contentsOf: URL(fileURLWithPath: path)).count)
        }
        #expect(sizes[2] < sizes[0], "a coarser quantizer makes a smaller file: \(sizes)")
    }

    @Test(arguments: [VideoCodec.ffv1, .mpeg4(quantizer: 5)])
    func outputBytesAreDeterministic(codec: VideoCodec) throws {
        // no random segment/track UIDs, creation time or version strings: two writes (to other
        // names, a moment apart) give the same bytes
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let frames = motionClip(frames: 6, seed: 11)
        let a = folder + "/a." + codec.fileExtension, b = folder + "/other-name." + codec.fileExtension
        try VideoWriter.write(frames, fps: 8, to: a, codec: codec)
        Thread.sleep(forTimeInterval: 1.1)
        try VideoWriter.write(frames, fps: 8, to: b, codec: codec)
        let x = try Data(contentsOf: URL(fileURLWithPath: a)), y = try Data(contentsOf: URL(fileURLWithPath: b))
        #expect(x.count > 0 && x == y, "\(codec): \(x.count) and \(y.count) bytes differ")
        // and a changed frame changes the file
        var changed = frames
        changed[3] = noiseFrames(1, width: 64, height: 64, seed: 1)[0]
        try VideoWriter.write(changed, fps: 8, to: b, codec: codec)
        #expect(try Data(contentsOf: URL(fileURLWithPath: b)) != x)
    }

    @Test func grayAlphaAnd16BitFramesBecomeRGB() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let rgb = noiseFrames(2, width: 8, height: 6, seed: 4)
        let gray = rgb[0].grayscale()
        let source = bytes(rgb[1])
        var withAlpha: [UInt8] = []
        for i in 0..<48 { withAlpha += source[(3 * i)..<(3 * i + 3)]; withAlpha.append(UInt8(i)) }
        let rgba = Image(width: 8, height: 6, channels: 4, pixels: withAlpha)
        let deep = rgb[1].to16Bit()
        let path = folder + "/mixed.mkv"
        try VideoWriter.write([gray, rgba, deep], fps: 5, to: path)
        let video = try VideoReader(contentsOf: path)
        #expect(try video.frame(at: 0) == gray.rgb())         // gray replicated
        #expect(try video.frame(at: 1) == rgb[1])             // alpha dropped
        #expect(try video.frame(at: 2) == rgb[1])             // 16-bit high bytes (v * 257 >> 8 == v)
    }

    @Test func streamingWriterReplacesAFileOnlyWhenFinished() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/clip.mkv"
        let old = Data("the previous file".utf8)
        try old.write(to: URL(fileURLWithPath: path))
        let frames = motionClip(frames: 4)
        do {
            let writer = try VideoWriter(path: path, width: 64, height: 64, fps: 4)
            for f in frames.prefix(3) { try writer.append(f) }
            #expect(writer.frameCount == 3)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == old, "unchanged while writing")
            #expect(files(in: folder).count == 2, "the video is written beside it: \(files(in: folder))")
            // dropped without finish(): the temporary file goes, the old file stays
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == old)
        #expect(files(in: folder) == ["clip.mkv"])
        let writer = try VideoWriter(path: path, width: 64, height: 64, fps: 4)
        for f in frames { try writer.append(f) }
        try writer.finish()
        #expect(writer.frameCount == 4)
        #expect(files(in: folder) == ["clip.mkv"])
        let video = try VideoReader(contentsOf: path)
        let last = try video.frame(at: 3)
        #expect(video.info.frameCount == 4 && last == frames[3])
        #expect(throws: VideoError(file: path, "the writer is finished")) { try writer.append(frames[0]) }
        #expect(throws: VideoError(file: path, "the writer is finished")) { try writer.finish() }
    }
}

@Suite struct VideoWriterBadInputTests {
    /// Expects a VideoError naming `path` whose message contains `contains`, and no file left
    /// behind in `folder` other than `leaving`.
    func expectFailure(_ path: String, contains: String, folder: String, leaving: [String] = [],
                       sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("\(path): no error (expected “\(contains)”)", sourceLocation: sourceLocation)
        } catch let error as VideoError {
            #expect(error.file == path, sourceLocation: sourceLocation)
            #expect(error.message.contains(contains), "\(error.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(path): untyped error \(error)", sourceLocation: sourceLocation)
        }
        #expect(files(in: folder) == leaving.sorted(), "left behind", sourceLocation: sourceLocation)
    }

    @Test func badFramesThrowNamingTheFile() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/clip.mkv"
        let frames = motionClip(frames: 3)
        expectFailure(path, contains: "no frames", folder: folder) { try VideoWriter.write([], fps: 8, to: path) }
        let small = Image(width: 32, height: 64, channels: 3, pixels: [UInt8](repeating: 9, count: 32 * 64 * 3))
        expectFailure(path, contains: "frame 2 is 32×64, frame 0 is 64×64", folder: folder) {
            try VideoWriter.write([frames[0], frames[1], small], fps: 8, to: path)
        }
        // the streaming writer refuses a wrong size, then only fails
        let writer = try VideoWriter(path: path, width: 64, height: 64, fps: 8)
        try writer.append(frames[0])
        #expect(throws: VideoError(file: path, "frame 1 is 32×64, the video is 64×64")) { try writer.append(small) }
        try writer.append(frames[1])   // a size mismatch is caught before encoding: the writer goes on
        try writer.finish()
        #expect(try VideoReader(contentsOf: path).info.frameCount == 2)
    }

    @Test func badSettingsThrowBeforeAnythingIsWritten() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let frames = motionClip(frames: 2)
        let mkv = folder + "/clip.mkv", mp4 = folder + "/clip.mp4"
        expectFailure(mkv, contains: "fps must be in 1...1000, got 0", folder: folder) { try VideoWriter.write(frames, fps: 0, to: mkv) }
        expectFailure(mkv, contains: "got 1001", folder: folder) { try VideoWriter.write(frames, fps: 1001, to: mkv) }
        expectFailure(mp4, contains: "ffv1 video is written as .mkv, not .mp4", folder: folder) { try VideoWriter.write(frames, fps: 8, to: mp4) }
        expectFailure(mkv, contains: "mpeg4 video is written as .mp4", folder: folder) {
            try VideoWriter.write(frames, fps: 8, to: mkv, codec: .mpeg4())
        }
        let noExtension = folder + "/clip"
        expectFailure(noExtension, contains: "not a path without extension", folder: folder) { try VideoWriter.write(frames, fps: 8, to: noExtension) }
        expectFailure(mp4, contains: "quantizer must be in 1...31, got 32", folder: folder) {
            try VideoWriter.write(frames, fps: 8, to: mp4, codec: .mpeg4(quantizer: 32))
        }
        let odd = noiseFrames(1, width: 63, height: 64, seed: 1)
        expectFailure(mp4, contains: "mpeg4 needs even frame sides (4:2:0 chroma), got 63×64", folder: folder) {
            try VideoWriter.write(odd, fps: 8, to: mp4, codec: .mpeg4())
        }
        let wide = Image(width: 8192, height: 2, channels: 3, pixels: [UInt8](repeating: 0, count: 8192 * 2 * 3))
        expectFailure(mp4, contains: "8192×2 is outside 1...8190 per side for mpeg4", folder: folder) {
            try VideoWriter.write([wide], fps: 8, to: mp4, codec: .mpeg4())
        }
        expectFailure(mkv, contains: "16385×1 is outside 1...16384", folder: folder) {
            _ = try VideoWriter(path: mkv, width: 16385, height: 1, fps: 8)
        }
    }

    @Test func unwritablePathsThrow() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let frames = motionClip(frames: 2)
        let missing = folder + "/no/such/folder/clip.mkv"
        expectFailure(missing, contains: "cannot create a file in the destination folder (No such file or directory)", folder: folder) {
            try VideoWriter.write(frames, fps: 8, to: missing)
        }
        let directory = folder + "/dir.mkv"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        expectFailure(directory, contains: "is a directory", folder: folder, leaving: ["dir.mkv"]) {
            try VideoWriter.write(frames, fps: 8, to: directory)
        }
        if getuid() != 0 {   // root writes anywhere
            let locked = folder + "/locked"
            try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o555])
            expectFailure(locked + "/clip.mkv", contains: "Permission denied", folder: locked) {
                try VideoWriter.write(frames, fps: 8, to: locked + "/clip.mkv")
            }
        }
        // finishing without frames writes nothing
        let path = folder + "/clip.mkv"
        let writer = try VideoWriter(path: path, width: 64, height: 64, fps: 8)
        expectFailure(path, contains: "no frames to write", folder: folder, leaving: ["dir.mkv"]) { try writer.finish() }
    }
}
