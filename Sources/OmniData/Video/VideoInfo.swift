/// What a video file holds, from its container and the frame index built when it is opened.
///
/// `frameCount` is exact (one entry per frame the file holds, counted from its packets, not the
/// header's estimate); `duration` is the span the frames cover, `frameCount` frame periods when the
/// frame rate is constant.
public struct VideoInfo: Sendable, Equatable, Codable {
    /// FFmpeg's demuxer name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, `avi`.
    public let format: String
    /// The video codec, e.g. `h264`, `vp9`, `mpeg4`.
    public let codec: String
    /// The decoder's pixel format, e.g. `yuv420p`.
    public let pixelFormat: String
    public let width: Int
    public let height: Int
    /// Average frames per second (0 when the container does not say).
    public let fps: Double
    /// Frames in the file.
    public let frameCount: Int
    /// Seconds covered by the frames: the last frame's time plus one frame period.
    public let duration: Double
    /// Whether there is an audio track (read it with `VideoReader.audio()`).
    public let hasAudio: Bool
    /// The audio codec, sample rate and channels when there is an audio track.
    public let audioCodec: String?
    public let sampleRate: Int?
    public let channels: Int?

    enum CodingKeys: String, CodingKey {
        case format, codec, width, height, fps, duration
        case pixelFormat = "pixel_format", frameCount = "frame_count", hasAudio = "has_audio"
        case audioCodec = "audio_codec", sampleRate = "sample_rate", channels
    }
}
