import COmniMedia
import Foundation

/// Encodes RGB frames into a video file through FFmpeg: lossless FFV1 in Matroska by default,
/// or MPEG-4 Part 2 in MP4 (see `VideoCodec`).
///
/// Writing is atomic: frames go to a temporary file beside `path`, which is synced and renamed
/// to `path` only when the video is complete, so `path` never holds a partial file (an existing
/// file there stays as it was until then). Nothing is left behind on failure or when a writer is
/// dropped without `finish()`. The output is deterministic: the same frames, fps and codec give
/// the same bytes (FFmpeg's bit-exact mode, one encoder thread, no random IDs, no creation time,
/// no version strings).
///
/// Frames may be gray, gray + alpha, RGB or RGBA, 8 or 16 bits: they are converted to 8-bit RGB
/// as `Image.rgb()` and `Image.to8Bit()` do (gray replicated, alpha dropped, high byte kept).
/// All frames must have the same size.
///
/// ```swift
/// try VideoWriter.write(frames, fps: 8, to: "clip.mkv")            // lossless
/// let back = try VideoReader(contentsOf: "clip.mkv")
/// assert(try back.frame(at: 0) == frames[0])
///
/// let writer = try VideoWriter(path: "long.mp4", width: 320, height: 240, fps: 25, codec: .mpeg4())
/// for frame in source { try writer.append(frame) }
/// try writer.finish()
/// ```
///
/// Not thread-safe: use one writer per thread.
public final class VideoWriter {
    /// The file being written (used in errors).
    public let path: String
    public let width: Int
    public let height: Int
    public let fps: Int
    public let codec: VideoCodec
    private var handle: OpaquePointer?
    private var failed = false

    /// The highest frame rate accepted (Matroska keeps times in milliseconds).
    public static let maxFPS = Int(OMNI_VIDEO_MAX_FPS)

    /// Frames appended so far.
    public private(set) var frameCount = 0

    /// Starts a video of `width` × `height` frames at `fps` frames per second. Throws
    /// `VideoError` naming `path` when a size is outside the codec's limits (`VideoCodec.maxSide`,
    /// even sides for MPEG-4), fps is outside 1...`maxFPS`, the MPEG-4 quantizer is outside
    /// 1...31, `path`'s extension is not the codec's (`VideoCodec.fileExtension`), `path` is a
    /// directory, or its folder cannot be written to.
    public init(path: String, width: Int, height: Int, fps: Int, codec: VideoCodec = .ffv1) throws(VideoError) {
        self.path = path
        self.width = width
        self.height = height
        self.fps = fps
        self.codec = codec
        try Self.check(path: path, width: width, height: height, fps: fps, codec: codec)
        var options = omni_video_encode_options(codec: codec.cValue, width: Int32(width), height: Int32(height),
                                                fps: Int32(fps), quantizer: Int32(codec.quantizer))
        var err = [CChar](repeating: 0, count: 512)
        var handle: OpaquePointer?
        guard omni_video_writer_open(path, &options, &handle, &err, err.count) == 0, let handle else {
            throw VideoError(file: path, MediaHandle.message(err))
        }
        self.handle = handle
    }

    deinit {
        if let handle { omni_video_writer_abort(handle) }
    }

    /// Encodes the next frame; it must be `width` × `height`. After a failure the writer is
    /// closed and its temporary file removed: further calls throw.
    public func append(_ frame: Image) throws(VideoError) {
        guard let handle else { throw VideoError(file: path, failed ? "the writer has failed" : "the writer is finished") }
        guard frame.width == width && frame.height == height else {
            throw VideoError(file: path, "frame \(frameCount) is \(frame.width)×\(frame.height), the video is \(width)×\(height)")
        }
        let rgb = Self.rgbBytes(frame)
        var err = [CChar](repeating: 0, count: 512)
        let status = rgb.withUnsafeBufferPointer { omni_video_writer_add_rgb(handle, $0.baseAddress, $0.count, &err, err.count) }
        guard status == 0 else {
            omni_video_writer_abort(handle)
            self.handle = nil
            failed = true
            throw VideoError(file: path, MediaHandle.message(err))
        }
        frameCount += 1
    }

    /// Flushes the encoder, completes the container and moves the file to `path`. Throws when
    /// no frame was appended or on a write error (the temporary file is then removed).
    public func finish() throws(VideoError) {
        guard let handle else { throw VideoError(file: path, failed ? "the writer has failed" : "the writer is finished") }
        self.handle = nil   // finish frees the C writer whatever happens
        var err = [CChar](repeating: 0, count: 512)
        guard omni_video_writer_finish(handle, &err, err.count) == 0 else {
            failed = true
            throw VideoError(file: path, MediaHandle.message(err))
        }
    }

    /// Writes `frames` (at least one, all the same size) as a video at `fps` frames per second
    /// to `path`, whose extension must be the codec's (`mkv` for FFV1, `mp4` for MPEG-4).
    /// Throws `VideoError` naming `path` for no frames, frames of different sizes, sizes, fps or
    /// extensions the codec refuses, or a path that cannot be written.
    public static func write(_ frames: [Image], fps: Int, to path: String, codec: VideoCodec = .ffv1) throws(VideoError) {
        guard let first = frames.first else { throw VideoError(file: path, "no frames to write") }
        if let bad = frames.firstIndex(where: { $0.width != first.width || $0.height != first.height }) {
            throw VideoError(file: path, "frame \(bad) is \(frames[bad].width)×\(frames[bad].height), frame 0 is \(first.width)×\(first.height)")
        }
        let writer = try VideoWriter(path: path, width: first.width, height: first.height, fps: fps, codec: codec)
        for frame in frames { try writer.append(frame) }
        try writer.finish()
    }

    private static func check(path: String, width: Int, height: Int, fps: Int, codec: VideoCodec) throws(VideoError) {
        guard !path.isEmpty else { throw VideoError(file: path, "empty output path") }
        let ext = (path as NSString).pathExtension.lowercased()
        guard ext == codec.fileExtension else {
            throw VideoError(file: path, "\(codec) video is written as .\(codec.fileExtension), not \(ext.isEmpty ? "a path without extension" : "." + ext)")
        }
        guard (1...codec.maxSide).contains(width) && (1...codec.maxSide).contains(height) else {
            throw VideoError(file: path, "frame size \(width)×\(height) is outside 1...\(codec.maxSide) per side for \(codec)")
        }
        guard !codec.needsEvenSides || (width % 2 == 0 && height % 2 == 0) else {
            throw VideoError(file: path, "\(codec) needs even frame sides (4:2:0 chroma), got \(width)×\(height)")
        }
        guard (1...maxFPS).contains(fps) else { throw VideoError(file: path, "fps must be in 1...\(maxFPS), got \(fps)") }
        if case .mpeg4(let q) = codec, !(1...31).contains(q) {
            throw VideoError(file: path, "the MPEG-4 quantizer must be in 1...31, got \(q)")
        }
    }

    /// Packed 8-bit RGB samples of `image`.
    private static func rgbBytes(_ image: Image) -> [UInt8] {
        let rgb = image.to8Bit().rgb()
        guard case .uint8(let pixels) = rgb.pixels else { preconditionFailure("to8Bit() returned 16-bit samples") }
        return pixels
    }
}
