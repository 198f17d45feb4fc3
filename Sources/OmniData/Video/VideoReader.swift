import COmniMedia
import Foundation
import OmniTensor

/// Decodes video files through FFmpeg (mp4, mov, avi, mkv, webm and anything else FFmpeg 5.1
/// demuxes): metadata, single RGB frames, uniformly spaced or fixed-rate frame batches as model
/// input, and the audio track.
///
/// Opening a file reads its packets once, without decoding, to index every frame by presentation
/// time, so `frameCount` is exact and frame `i` means the `i`-th frame shown. Frames decode in
/// increasing order; to reach a frame the reader seeks to the key frame at or before it when that
/// skips work, else decodes forward (seeking never changes which frame is returned: the frame whose
/// timestamp matches is the one converted). Streams without timestamps are read in decode order.
///
/// Model input (`frames(count:size:)`): each frame is converted to RGB at its own size by swscale
/// (the YUV matrix and range the stream is tagged with, BT.601 limited range when untagged, as
/// PyAV's `to_ndarray(format="rgb24")`), resized so its **shorter side is `size`** with Pillow's
/// antialiased bilinear filter (`Image.resized(shorterSide:)`), **centre-cropped to `size` × `size`**
/// (`Image.centerCropped`), and scaled to [0, 1] — torchvision's `Resize(S)`, `CenterCrop(S)`,
/// `ToTensor()` on the RGB frame. No mean/std normalisation is applied; use
/// `Tensor.normalizedChannels` for that.
///
/// Not thread-safe: use one reader per thread.
///
/// ```swift
/// let video = try VideoReader(contentsOf: "bikes.mp4")
/// print(video.info.frameCount, video.info.fps)          // 250 25.0
/// let clip = try video.frames(count: 8, size: 224)      // [8, 3, 224, 224] in 0...1
/// let first = try video.frame(at: 0)                    // Image, RGB, 640×272
/// let sound = try video.audio()                         // AudioFile (throws if there is no audio)
/// ```
public final class VideoReader {
    /// The path (or name, for bytes) used in errors.
    public let file: String
    public let info: VideoInfo
    public let limits: MediaLimits
    let handle: MediaHandle
    private let source: Source

    private enum Source { case path(String), bytes([UInt8]) }

    /// The FFmpeg release linked in, e.g. `5.1.6-0+deb12u1`.
    public static var ffmpegVersion: String { String(cString: omni_media_ffmpeg_version()) }

    /// The most values (`N × 3 × S × S`) a frame batch may hold: 2^30 floats (4 GiB).
    public static let maxBatchValues = 1 << 30

    /// Opens and indexes the video at `path`; throws `VideoError` naming the file for a missing,
    /// empty, truncated, corrupt or implausibly sized file, or one without a video stream.
    public convenience init(contentsOf path: String, limits: MediaLimits = .default) throws(VideoError) {
        let handle: MediaHandle
        do { handle = try MediaHandle(path: path, limits: limits) } catch { throw VideoError(file: path, error.message) }
        try self.init(handle: handle, file: path, source: .path(path), limits: limits)
    }

    /// Opens and indexes an encoded video held in memory; `name` is used in errors and its
    /// extension as a format hint.
    public convenience init(data: [UInt8], name: String = "<memory>", limits: MediaLimits = .default) throws(VideoError) {
        let handle: MediaHandle
        do { handle = try MediaHandle(data: data, name: name, limits: limits) } catch { throw VideoError(file: name, error.message) }
        try self.init(handle: handle, file: name, source: .bytes(data), limits: limits)
    }

    private init(handle: MediaHandle, file: String, source: Source, limits: MediaLimits) throws(VideoError) {
        self.handle = handle
        self.file = file
        self.source = source
        self.limits = limits
        let c = handle.info
        guard c.video_stream >= 0 else {
            let what = c.audio_stream >= 0 ? "an audio file (read it with AudioFile)" : "no video stream"
            throw VideoError(file: file, "no video stream: \(what), format \(cString(c.format))")
        }
        let count: Int
        do { count = try handle.indexVideo() } catch { throw VideoError(file: file, error.message) }
        let fps = c.fps_num > 0 && c.fps_den > 0 ? Double(c.fps_num) / Double(c.fps_den) : 0
        let last = handle.frameTime(count - 1)
        let period = fps > 0 ? 1 / fps : (count > 1 ? last / Double(count - 1) : 0)
        let hasAudio = c.audio_stream >= 0
        info = VideoInfo(
            format: cString(c.format), codec: cString(c.video_codec), pixelFormat: cString(c.pixel_format),
            width: Int(c.width), height: Int(c.height), fps: fps, frameCount: count,
            duration: ((last + period) * 1e6).rounded() / 1e6,   // microseconds: 1.1 + 0.1 prints as 1.2
            hasAudio: hasAudio, audioCodec: hasAudio ? cString(c.audio_codec) : nil,
            sampleRate: hasAudio ? Int(c.sample_rate) : nil, channels: hasAudio ? Int(c.channels) : nil)
    }

    /// Presentation time of frame `index`, in seconds from the first frame.
    public func time(ofFrame index: Int) -> Double {
        precondition(index >= 0 && index < info.frameCount, "VideoReader.time(ofFrame:): \(index) is outside 0..<\(info.frameCount)")
        return handle.frameTime(index)
    }

    /// Frame `index` (presentation order) as an 8-bit RGB image at the video's size.
    public func frame(at index: Int) throws(VideoError) -> Image {
        guard index >= 0 && index < info.frameCount else {
            throw VideoError(file: file, "frame \(index) is outside 0..<\(info.frameCount)")
        }
        let rgb: [UInt8]
        do { rgb = try handle.readFrame(index, width: info.width, height: info.height) } catch {
            throw VideoError(file: file, error.message)
        }
        return Image(width: info.width, height: info.height, channels: 3, pixels: rgb)
    }

    /// `count` frame indices spread uniformly over `frameCount` frames, first and last included:
    /// `⌊i · (frameCount − 1) / (count − 1)⌋` for i in 0..<count (pytorchvideo's
    /// `UniformTemporalSubsample`, in exact integer arithmetic). With `count` = 1, frame 0; with
    /// `count` > `frameCount`, indices repeat.
    public static func uniformIndices(count: Int, frameCount: Int) -> [Int] {
        precondition(count > 0 && frameCount > 0, "VideoReader.uniformIndices: needs count > 0 and frameCount > 0, got \(count), \(frameCount)")
        if count == 1 { return [0] }
        return (0..<count).map { $0 * (frameCount - 1) / (count - 1) }
    }

    /// Indices of the frames shown at times 0, 1/fps, 2/fps, … up to the video's duration: for each
    /// time, the last frame whose presentation time is at or before it. At most `maxFrames` when given.
    public func indices(fps: Double, maxFrames: Int? = nil) -> [Int] {
        precondition(fps > 0 && fps.isFinite, "VideoReader.indices(fps:): fps must be positive, got \(fps)")
        let times = (0..<info.frameCount).map { handle.frameTime($0) }
        var out: [Int] = []
        var k = 0, j = 0
        while true {
            let t = Double(k) / fps
            if t >= info.duration - 1e-9 || (maxFrames.map { out.count >= $0 } ?? false) { break }
            while j + 1 < times.count && times[j + 1] <= t + 1e-9 { j += 1 }
            out.append(j)
            k += 1
        }
        return out.isEmpty ? [0] : out
    }

    /// `count` uniformly spaced frames (`uniformIndices`), resized and centre-cropped to
    /// `size` × `size` (see the type's documentation): float32 `[count, 3, size, size]` in 0...1.
    public func frames(count: Int, size: Int) throws(VideoError) -> Tensor {
        guard count > 0 else { throw VideoError(file: file, "frame count must be positive, got \(count)") }
        return try frames(at: Self.uniformIndices(count: count, frameCount: info.frameCount), size: size)
    }

    /// Frames sampled at `fps` frames per second (`indices(fps:maxFrames:)`), as
    /// `frames(count:size:)`: `[N, 3, size, size]`.
    public func frames(fps: Double, size: Int, maxFrames: Int? = nil) throws(VideoError) -> Tensor {
        guard fps > 0 && fps.isFinite && fps <= 10_000 else { throw VideoError(file: file, "fps must be in (0, 10000], got \(fps)") }
        if let maxFrames, maxFrames <= 0 { throw VideoError(file: file, "maxFrames must be positive, got \(maxFrames)") }
        return try frames(at: indices(fps: fps, maxFrames: maxFrames), size: size)
    }

    /// The frames at `indices` (any order, repeats allowed; decoded in increasing order), resized
    /// and centre-cropped to `size` × `size`: float32 `[indices.count, 3, size, size]` in 0...1.
    public func frames(at indices: [Int], size: Int) throws(VideoError) -> Tensor {
        guard !indices.isEmpty else { throw VideoError(file: file, "no frames requested") }
        guard size > 0 && size <= limits.maxDimension else {
            throw VideoError(file: file, "size must be in 1...\(limits.maxDimension), got \(size)")
        }
        let plane = 3 * size * size
        guard indices.count <= Self.maxBatchValues / plane else {
            throw VideoError(file: file, "\(indices.count) frames of 3×\(size)×\(size) exceed \(Self.maxBatchValues) values")
        }
        if let bad = indices.first(where: { $0 < 0 || $0 >= info.frameCount }) {
            throw VideoError(file: file, "frame \(bad) is outside 0..<\(info.frameCount)")
        }
        var out = [Float](repeating: 0, count: indices.count * plane)  // [N, 3, S, S]
        let order = indices.indices.sorted { (indices[$0], $0) < (indices[$1], $1) }
        var previous: (index: Int, values: [Float])?
        for slot in order {
            let index = indices[slot]
            let values: [Float]
            if let previous, previous.index == index {
                values = previous.values
            } else {
                values = try frame(at: index).resized(shorterSide: size).centerCropped(width: size, height: size)
                    .tensor().toArray()  // [3, S, S]
                previous = (index, values)
            }
            out.replaceSubrange((slot * plane)..<((slot + 1) * plane), with: values)
        }
        return Tensor(out, shape: [indices.count, 3, size, size])
    }

    /// The audio track, decoded as `AudioFile(contentsOf:)` decodes FFmpeg formats (float32,
    /// interleaved, at the track's own rate); use `monoSamples()` and `Resampler` as for any
    /// audio. Throws when there is no audio track.
    public func audio() throws(VideoError) -> AudioFile {
        guard info.hasAudio else { throw VideoError(file: file, "no audio track") }
        do {
            let fresh: MediaHandle
            switch source {
            case .path(let path): fresh = try MediaHandle(path: path, limits: limits)
            case .bytes(let data): fresh = try MediaHandle(data: data, name: file, limits: limits)
            }
            return try fresh.decodeAudio()
        } catch {
            throw VideoError(file: file, error.message)
        }
    }

    /// The number of video packets fed to the decoder so far (shows that seeking skipped work).
    var packetsDecoded: Int { handle.packetsDecoded }
}
