// The video encoder of the omni-modal model (issue 5): every frame goes through one shared
// ImageEncoder, each frame's tokens are averaged into one frame token (the masked mean of its
// projected tokens), time positions are added, and a pre-LN Transformer runs over the frames of
// each video. Output: one token per frame, [B, T, D] with T the most frames of any video, padded
// frames 0 and false in the mask; a missing video (nil) has an all-false row.
//
// Time positions are learned (`time_embed` [maxFrames, D], so at most maxFrames frames) or the
// fixed sinusoidal table of "Attention Is All You Need" (any number of frames); position t is
// the frame's index in its video. Frames of one video must share one size; videos may differ in
// size and length. Tokens of a video do not depend on the other videos of the batch.
//
// Keys: `frame_encoder.*` (an ImageEncoder, built without modality tags), `time_embed`,
// `blocks.N.*` (OmniNN's TransformerEncoderLayer), `norm`.
import Foundation
import OmniNN
import OmniTensor

/// A batch of videos for ``VideoEncoder``: each a float32 [T, C, H, W] tensor of normalised frames,
/// or nil for a sample without video.
public struct VideoBatch: @unchecked Sendable {
    public var videos: [Tensor?]

    public init(videos: [Tensor?]) { self.videos = videos }

    public var count: Int { videos.count }
}

/// The hyper-parameters of a ``VideoEncoder``.
///
/// ```swift
/// let config = VideoEncoderConfiguration(
///     frames: ImageEncoderConfiguration(backbone: .vit(.vitTiny224), dimension: 256), depth: 2, heads: 4)
/// ```
public struct VideoEncoderConfiguration: Codable, Sendable, Equatable {
    /// How frames know when they are.
    public enum TimePositions: String, Codable, Sendable {
        /// A learned table of `maxFrames` rows.
        case learned
        /// The fixed sinusoidal table (no limit on the frame count).
        case sinusoidal
    }

    /// The per-frame image encoder (its `modalityTags` is ignored: frames are not tagged).
    public var frames: ImageEncoderConfiguration
    /// Temporal Transformer blocks.
    public var depth: Int
    public var heads: Int
    /// Hidden size of the temporal blocks' MLPs (default 4·D).
    public var mlpHiddenSize: Int
    public var timePositions: TimePositions
    /// Most frames a video may have with learned time positions.
    public var maxFrames: Int
    public var layerNormEps: Float
    /// Dropout in the temporal blocks (training only).
    public var dropout: Float
    /// Frames a training or evaluation corpus samples from each clip, uniformly spaced (nil: 8).
    /// The encoder itself takes any count up to `maxFrames`.
    public var clipFrames: Int?

    public init(frames: ImageEncoderConfiguration, depth: Int = 2, heads: Int = 4, mlpHiddenSize: Int? = nil,
                timePositions: TimePositions = .learned, maxFrames: Int = 64, layerNormEps: Float = 1e-5, dropout: Float = 0,
                clipFrames: Int? = nil) {
        self.frames = frames
        self.depth = depth
        self.heads = heads
        self.mlpHiddenSize = mlpHiddenSize ?? 4 * frames.dimension
        self.timePositions = timePositions
        self.maxFrames = maxFrames
        self.layerNormEps = layerNormEps
        self.dropout = dropout
        self.clipFrames = clipFrames
    }

    /// Frames sampled from each clip (``clipFrames``, 8 when unset).
    public var framesPerClip: Int { clipFrames ?? 8 }

    /// Why these values cannot build an encoder, or nil.
    public var problem: String? {
        if let p = frames.problem { return "frames: \(p)" }
        let d = frames.dimension
        if depth < 0 { return "depth must be non-negative, got \(depth)" }
        if let n = clipFrames, n < 1 || (timePositions == .learned && n > maxFrames) {
            return "clipFrames must be in 1...\(timePositions == .learned ? maxFrames : Int.max), got \(n)"
        }
        if heads <= 0 || d % heads != 0 { return "dimension \(d) is not divisible by \(heads) heads" }
        if mlpHiddenSize <= 0 { return "mlpHiddenSize must be positive, got \(mlpHiddenSize)" }
        if timePositions == .learned && maxFrames <= 0 { return "maxFrames must be positive, got \(maxFrames)" }
        if timePositions == .sinusoidal && d % 2 != 0 { return "sinusoidal time positions need an even dimension, got \(d)" }
        if !(layerNormEps > 0) { return "layerNormEps must be positive, got \(layerNormEps)" }
        if !(dropout >= 0 && dropout < 1) { return "dropout must be in [0, 1), got \(dropout)" }
        return nil
    }
}

/// Encodes videos into one token per frame: [B, T, D] with a mask.
///
/// ```swift
/// let encoder = VideoEncoder(config, generator: Generator(seed: 0))
/// let out = encoder(VideoBatch(videos: [clip8, clip3, nil]))   // [8|3, 3, 224, 224] frames
/// out.tokens   // [3, 8, D]
/// out.mask     // row 0 all true, row 1 true for 3 frames, row 2 all false
/// ```
public final class VideoEncoder: Module, ModalityEncoder, @unchecked Sendable {
    @ModuleInfo(key: "frame_encoder") public var frameEncoder: ImageEncoder
    /// [maxFrames, D] (nil with sinusoidal positions).
    @ParameterInfo(key: "time_embed") public var timeTable: Tensor?
    @ModuleInfo(key: "blocks") public var blocks: [TransformerEncoderLayer]
    @ModuleInfo(key: "norm") public var norm: LayerNorm
    public let configuration: VideoEncoderConfiguration

    public init(_ configuration: VideoEncoderConfiguration, generator: Generator) {
        if let problem = configuration.problem { preconditionFailure("VideoEncoder: \(problem)") }
        self.configuration = configuration
        super.init()
        var frames = configuration.frames
        frames.modalityTags = false
        let d = frames.dimension
        frameEncoder = ImageEncoder(frames, generator: generator)
        timeTable = configuration.timePositions == .learned
            ? Tensor.normal([configuration.maxFrames, d], std: 0.02, generator: generator) : nil
        blocks = (0..<configuration.depth).map { _ in
            TransformerEncoderLayer(dimension: d, heads: configuration.heads, mlpHiddenSize: configuration.mlpHiddenSize,
                                    activation: .gelu, placement: .pre, norm: .layer, eps: configuration.layerNormEps,
                                    dropout: configuration.dropout, generator: generator)
        }
        norm = LayerNorm(d, eps: configuration.layerNormEps)
    }

    public var outputDimension: Int { configuration.frames.dimension }

    /// Time positions 0..<count: [count, D].
    public func timePositions(count: Int) -> Tensor {
        guard let timeTable else {
            return SinusoidalPositionalEncoding(dimension: outputDimension).table(count: count)
        }
        precondition(count <= configuration.maxFrames,
                     "VideoEncoder: \(count) frames exceed the \(configuration.maxFrames) learned time positions")
        return timeTable.narrowed(axis: 0, start: 0, length: count)
    }

    /// One pooled token per frame: frames [F, C, H, W] of one or more videos → [F, D].
    public func frameTokens(_ frames: [Tensor]) -> Tensor {
        let encoded = frameEncoder(ImageBatch(images: frames))                        // [F, n, D]
        let real = encoded.mask.converted(to: .float32).unsqueezed(axis: -1)          // [F, n, 1]
        return (encoded.tokens * real).sum(axis: 1) / real.sum(axis: 1)               // [F, D]
    }

    /// Encodes a batch: tokens [B, T, D] (T = the most frames of any video, at least 1), mask [B, T].
    public func callAsFunction(_ batch: VideoBatch) -> ModalityTokens {
        let present = batch.videos.indices.filter { batch.videos[$0] != nil }
        let videos = present.map { batch.videos[$0]! }
        for (i, video) in zip(present, videos) {
            precondition(video.rank == 4 && video.shape[0] > 0,
                         "VideoEncoder: video \(i) must be [T, C, H, W] with at least one frame, got \(video.shape)")
        }
        let d = outputDimension
        guard !videos.isEmpty else {
            return ModalityTokens(tokens: Tensor.zeros([batch.count, 1, d]),
                                  mask: Tensor([Bool](repeating: false, count: batch.count), shape: [batch.count, 1]))
        }
        let lengths = videos.map { $0.shape[0] }
        let frames = videos.flatMap { v in (0..<v.shape[0]).map { v.narrowed(axis: 0, start: $0, length: 1).squeezed(axis: 0) } }
        let pooled = frameTokens(frames)                                               // [ΣT, D]
        let t = lengths.max()!
        let positions = timePositions(count: t)                                        // [T, D]
        var start = 0
        let sequences = lengths.map { len -> Tensor in
            defer { start += len }
            return pooled.narrowed(axis: 0, start: start, length: len) + positions.narrowed(axis: 0, start: 0, length: len)
        }
        let (padded, _) = ImageEncoder.padded(sequences)                              // [B', T, D]
        let realMask = Tensor(lengths.flatMap { len in (0..<t).map { $0 < len } }, shape: [videos.count, t])
        let keyPadding = Set(lengths).count > 1 ? realMask : nil
        var h = blocks.reduce(padded) { h, block in block(h, keyPadding: keyPadding).output }
        h = norm(h) * realMask.converted(to: .float32).unsqueezed(axis: -1)          // padding → 0
        return ImageEncoder.scatter(h, mask: realMask, present: present, batchSize: batch.count)
    }

    public override var summary: String {
        "VideoEncoder(\(configuration.depth) temporal blocks, \(configuration.timePositions.rawValue) time positions)"
    }
}
