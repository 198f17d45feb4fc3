// `omni video info` and `omni video frames`: metadata and model-input frames of a video (FFmpeg).
import ArgumentParser
import Foundation
import OmniData
import OmniNN
import OmniTensor

struct VideoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "video",
        abstract: "Video metadata and frames (mp4, mov, avi, mkv, webm, … through FFmpeg).",
        subcommands: [VideoInfoCommand.self, VideoFramesCommand.self])
}

/// `VideoInfo` with the file name, as printed by `omni video info` and `omni inspect`.
struct VideoReport: Encodable {
    let file: String
    let info: VideoInfo

    func encode(to encoder: Encoder) throws {
        enum Key: String, CodingKey { case file }
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(file, forKey: .file)
        try info.encode(to: encoder)
    }

    /// One human-readable line.
    var summary: String {
        var line = "\(file): \(info.codec) video (\(info.format)), \(info.width)×\(info.height), "
            + "\(info.frameCount) frames at \(fixed(info.fps, 3)) fps, \(fixed(info.duration, 3)) s"
        if info.hasAudio, let codec = info.audioCodec, let rate = info.sampleRate, let channels = info.channels {
            line += ", audio \(codec) \(rate) Hz × \(channels)"
        } else {
            line += ", no audio"
        }
        return line
    }
}

struct VideoInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Prints a video's metadata; the last line of stdout is a JSON object.",
        discussion: """
            JSON keys: file, format, codec, pixel_format, width, height, fps, frame_count (exact: every \
            frame's packet is counted), duration (seconds the frames cover), has_audio, and when there \
            is audio: audio_codec, sample_rate, channels.
            """)

    @Argument(help: "The video file.") var file: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = try global.makeLogger("omni.video.info")
        let video: VideoReader
        do { video = try VideoReader(contentsOf: file) } catch { throw CLIError(error.description) }
        let report = VideoReport(file: file, info: video.info)
        print(report.summary)
        try printJSONLine(report)
    }
}

struct VideoFramesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Writes frames of a video as float32 .npy [N, 3, S, S] in 0…1.",
        discussion: """
            --count N takes N uniformly spaced frames (⌊i·(F−1)/(N−1)⌋ of F frames, first and last \
            included); --fps R instead takes the frame shown at every 1/R s (at most --max-frames). \
            Each frame is converted to RGB, resized so its shorter side is S (Pillow's antialiased \
            bilinear) and centre-cropped to S×S, then scaled to 0…1 — torchvision's Resize(S), \
            CenterCrop(S), ToTensor(); no mean/std normalisation. The last line of stdout is a JSON \
            object with the output's shape and the frame indices.
            """)

    @Argument(help: "The video file.") var file: String
    @Option(help: "Uniformly spaced frames to take.") var count: Int?
    @Option(help: "Take frames at this rate (frames per second) instead of --count.") var fps: Double?
    @Option(help: "With --fps: the most frames to take.") var maxFrames: Int?
    @Option(help: "Output side S: frames are resized (shorter side) and centre-cropped to S×S.") var size = 224
    @Option(help: "Output .npy file.") var out: String
    @OptionGroup var global: GlobalOptions

    struct Result: Encodable { let file: String; let out: String; let shape: [Int]; let indices: [Int] }

    func validate() throws {
        switch (count, fps) {
        case (nil, nil): throw ValidationError("give --count N or --fps R")
        case (.some, .some): throw ValidationError("--count and --fps exclude each other")
        default: break
        }
        if let count, count <= 0 || count > 100_000 { throw ValidationError("--count must be in 1...100000, got \(count)") }
        if let fps, !(fps > 0 && fps <= 10_000) { throw ValidationError("--fps must be in (0, 10000], got \(fps)") }
        if let maxFrames, maxFrames <= 0 { throw ValidationError("--max-frames must be positive, got \(maxFrames)") }
        if maxFrames != nil && fps == nil { throw ValidationError("--max-frames goes with --fps") }
        guard size > 0 && size <= 4096 else { throw ValidationError("--size must be in 1...4096, got \(size)") }
    }

    func run() throws {
        _ = try global.makeLogger("omni.video.frames")
        let video: VideoReader
        do { video = try VideoReader(contentsOf: file) } catch { throw CLIError(error.description) }
        let indices = if let count {
            VideoReader.uniformIndices(count: count, frameCount: video.info.frameCount)
        } else {
            video.indices(fps: fps ?? 1, maxFrames: maxFrames)
        }
        let frames: Tensor
        do { frames = try video.frames(at: indices, size: size) } catch { throw CLIError(error.description) }
        do { try NPY.write(frames, to: out) } catch { throw CLIError("--out \(out): \(error)") }
        print("\(file): \(indices.count) of \(video.info.frameCount) frames → \(frames.shape) float32 in \(out)")
        try printJSONLine(Result(file: file, out: out, shape: frames.shape, indices: indices))
    }
}
