import COmniMedia

/// A codec `VideoWriter` encodes with, and the container it goes in. Both are built into every
/// FFmpeg (no external library), so writing never depends on how FFmpeg was configured.
///
/// - `ffv1`: **lossless.** FFV1 version 1 (RFC 9043) in Matroska (`.mkv`): 8-bit RGB coded
///   through FFV1's reversible colour transform, every frame a key frame. `VideoReader` gets the
///   exact RGB bytes back, and decoding is fast (intra-only, no motion compensation). The
///   default, and what the demo corpus writes.
/// - `mpeg4(quantizer:)`: **lossy**, small. MPEG-4 Part 2 in MP4 (`.mp4`): 4:2:0 YUV with
///   BT.601 limited range (the matrix readers assume for untagged video), a fixed quantizer from
///   1 (best) to 31, a key frame every second, no B-frames. Sides must be even (4:2:0 chroma).
///
/// ```swift
/// let codec = VideoCodec.mpeg4(quantizer: 4)
/// print(codec.fileExtension)   // "mp4"
/// ```
public enum VideoCodec: Sendable, Hashable, CustomStringConvertible {
    case ffv1
    case mpeg4(quantizer: Int = 3)

    /// The extension of the container this codec is written in, without the dot: `mkv` or `mp4`.
    public var fileExtension: String { limits.fileExtension }

    /// The largest width or height the codec accepts (16384 for FFV1, 8190 for MPEG-4 Part 2,
    /// which codes sides in 13 bits and needs them even).
    public var maxSide: Int { limits.maxSide }

    /// Whether width and height must be even (4:2:0 chroma subsampling).
    public var needsEvenSides: Bool { limits.evenSides }

    /// FFmpeg's name of the encoder: `ffv1` or `mpeg4`.
    public var description: String { limits.name }

    var cValue: Int32 {
        switch self {
        case .ffv1: return Int32(OMNI_VIDEO_CODEC_FFV1)
        case .mpeg4: return Int32(OMNI_VIDEO_CODEC_MPEG4)
        }
    }

    var quantizer: Int {
        if case .mpeg4(let q) = self { return q }
        return 0
    }

    private var limits: (maxSide: Int, evenSides: Bool, fileExtension: String, name: String) {
        var side: Int32 = 0, even: Int32 = 0
        var ext: UnsafePointer<CChar>?, name: UnsafePointer<CChar>?
        let status = omni_video_codec_limits(cValue, &side, &even, &ext, &name)
        precondition(status == 0, "VideoCodec: COmniMedia does not know codec \(cValue)")
        return (Int(side), even != 0, String(cString: ext!), String(cString: name!))
    }
}
