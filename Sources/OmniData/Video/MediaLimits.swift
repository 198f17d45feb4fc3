import COmniMedia

/// Bounds on what an audio or video file decoded through FFmpeg may make the decoder do, so a
/// corrupt or hostile file fails with an error instead of exhausting time or memory.
///
/// ```swift
/// var limits = MediaLimits.default
/// limits.maxSeconds = 10
/// let video = try VideoReader(contentsOf: "clip.mp4", limits: limits)
/// ```
public struct MediaLimits: Sendable, Equatable {
    /// Bytes FFmpeg may read to identify the format and its streams (its `probesize`).
    public var maxProbeBytes: Int
    /// Stream time analysed to identify the streams, in seconds.
    public var maxAnalyzeSeconds: Double
    /// Video frames a file may hold (the frame index is built when the file is opened).
    public var maxFrames: Int
    /// Decoded audio samples (frames × channels); the same bound as `AudioFile.maxSamples`.
    public var maxSamples: Int
    /// Pixels (width × height) of a video frame.
    public var maxPixels: Int
    /// Width or height of a video frame.
    public var maxDimension: Int
    /// Audio channels.
    public var maxChannels: Int
    /// Decoder threads; 0 lets FFmpeg choose. One by default, since loaders decode several files at once.
    public var decoderThreads: Int
    /// Wall-clock budget of each step (open, index, decode one frame, decode the audio), in seconds.
    public var maxSeconds: Double

    /// 5 MB / 5 s probe, 2^20 frames, `AudioFile.maxSamples` samples, 16384-pixel sides,
    /// 2^27 pixels, 1024 channels, 1 thread, 120 s per step.
    public static let `default` = MediaLimits(
        maxProbeBytes: 5_000_000, maxAnalyzeSeconds: 5, maxFrames: 1 << 20, maxSamples: AudioFile.maxSamples,
        maxPixels: 1 << 27, maxDimension: 16_384, maxChannels: AudioFile.maxChannels, decoderThreads: 1, maxSeconds: 120)

    public init(maxProbeBytes: Int, maxAnalyzeSeconds: Double, maxFrames: Int, maxSamples: Int, maxPixels: Int,
                maxDimension: Int, maxChannels: Int, decoderThreads: Int, maxSeconds: Double) {
        self.maxProbeBytes = maxProbeBytes
        self.maxAnalyzeSeconds = maxAnalyzeSeconds
        self.maxFrames = maxFrames
        self.maxSamples = maxSamples
        self.maxPixels = maxPixels
        self.maxDimension = maxDimension
        self.maxChannels = maxChannels
        self.decoderThreads = decoderThreads
        self.maxSeconds = maxSeconds
    }

    var c: omni_media_limits {
        omni_media_limits(
            max_probe_bytes: Int64(maxProbeBytes), max_analyze_us: Int64((maxAnalyzeSeconds * 1e6).rounded()),
            max_frames: Int64(maxFrames), max_samples: Int64(maxSamples), max_pixels: Int64(maxPixels),
            max_dimension: Int32(clamping: maxDimension), max_channels: Int32(clamping: maxChannels),
            decoder_threads: Int32(clamping: decoderThreads), max_seconds: maxSeconds)
    }
}
