// Signal encoder for vibration and IMU recordings: 1-D channels lifted into a 2-D feature map,
// 2-D convolution stages, then one token per time step — the article's "1D vibration lifted by
// convolution into a 2D feature map" (DESIGN.md §1.5).
//
//   signals [B, C, S] ─ (standardise each channel over its own length)
//     ─ each channel on its own (shared weights), as [B·C, 1, S]:
//         lift: learned  Conv1d(1 → K·F, kernel W, stride H, padding W/2) → [K, F, T]
//               stft     log(1 + |STFT|) with a periodic Hann window of W, hop H → [1, W/2 + 1, T]
//               both     the two stacked → [K + 1, W/2 + 1, T]
//         stages: n × [Conv2d(3×3, stride (2, s_t), padding 1) ─ LayerNorm over channels ─ GELU]
//         → [B·C, C_n, F', T'] ─ (C_n·F' per time step) ─ Linear → D                → [B, C, T', D]
//     ─ attention pooling over the real channels at each time step (a learned score per channel
//       vector, softmax over channels)                                              → [B, T', D]
//     ─ + sinusoidal positions ─ L × pre-norm Transformer blocks ─ norm            → tokens [B, N, D]
//
// Any number of channels: channels share every weight and are combined by a permutation-invariant
// attention pool, so a sample may have 1, 3 or 9 channels; a batch pads channels up to its largest
// count and masks the padded ones out of the pool. Sampling rates: the encoder works at the one
// rate in its configuration (`sampleRate`); resample recordings to it upstream (OmniData's band-
// limited `Resampler`) — the batch carries its rate and a mismatch stops with a message, so a
// 100 Hz IMU trace is never silently read as 1 kHz vibration.
//
// Padding: the lift's frames centred in the real signal, the 2-D stages' time steps and the tokens
// are counted with the same convolution arithmetic as each sample alone; the signal and every
// stage's output are zeroed past each sample's length so the padded convolutions see the zeros
// they would see at the end of the lone sample, and padded channels get pooling weight 0.
//
// Keys: `lift` (learned or both), `stages.N.{conv, layer_norm}`, `proj`, `channel_pool` (no bias:
// softmax would cancel it), `layers.N`, `norm`. The STFT basis is derived from the configuration
// and not saved.

import Foundation
import OmniData
import OmniNN
import OmniTensor

/// Hyper-parameters of a ``SignalEncoder``.
///
/// ```swift
/// let config = SignalEncoderConfig(sampleRate: 100, dimension: 128, lift: .both, window: 32, hop: 8,
///                                  stageChannels: [32, 64], layers: 2, heads: 4)
/// ```
public struct SignalEncoderConfig: Codable, Sendable, Equatable {
    public enum Lift: String, Codable, Sendable {
        /// A learned Conv1d whose K·F output channels are read as K planes of F rows.
        case learned
        /// The log-magnitude STFT (a fixed transform).
        case stft
        /// Both, stacked as planes (F is then the STFT's W/2 + 1 bins).
        case both
    }

    /// The sampling rate (Hz) every input must have.
    public var sampleRate: Double
    /// Width D of the produced tokens.
    public var dimension: Int
    public var lift: Lift
    /// Lift window W in samples (the STFT size; even).
    public var window: Int
    /// Lift hop H in samples.
    public var hop: Int
    /// Planes K of the learned lift.
    public var liftPlanes: Int
    /// Rows F of the learned lift (with `both`, must equal `window / 2 + 1`).
    public var liftRows: Int
    /// Output channels of each 2-D stage (each halves the rows).
    public var stageChannels: [Int]
    /// Time stride of each 2-D stage (1 keeps one token per lift frame).
    public var stageTimeStrides: [Int]
    /// Transformer blocks over time after pooling (0 for none).
    public var layers: Int
    /// Attention heads; must divide `dimension`.
    public var heads: Int
    /// MLP hidden size as a multiple of `dimension`.
    public var mlpRatio: Int
    /// Dropout on attention weights and residual branches (training only).
    public var dropout: Float
    /// Whether each channel is standardised over its real samples first.
    public var normalizeChannels: Bool

    public init(sampleRate: Double, dimension: Int, lift: Lift = .learned, window: Int = 32, hop: Int = 8,
                liftPlanes: Int = 4, liftRows: Int? = nil, stageChannels: [Int] = [32, 64], stageTimeStrides: [Int]? = nil,
                layers: Int = 2, heads: Int = 4, mlpRatio: Int = 4, dropout: Float = 0, normalizeChannels: Bool = true) {
        self.sampleRate = sampleRate
        self.dimension = dimension
        self.lift = lift
        self.window = window
        self.hop = hop
        self.liftPlanes = liftPlanes
        self.liftRows = liftRows ?? window / 2 + 1
        self.stageChannels = stageChannels
        self.stageTimeStrides = stageTimeStrides ?? Array(repeating: 1, count: stageChannels.count)
        self.layers = layers
        self.heads = heads
        self.mlpRatio = mlpRatio
        self.dropout = dropout
        self.normalizeChannels = normalizeChannels
    }

    /// Rows of the lifted map.
    public var mapRows: Int { lift == .learned ? liftRows : window / 2 + 1 }

    /// Planes of the lifted map.
    public var mapPlanes: Int {
        switch lift {
        case .learned: return liftPlanes
        case .stft: return 1
        case .both: return liftPlanes + 1
        }
    }

    /// Why these sizes cannot build an encoder, or nil.
    public var problem: String? {
        if !(sampleRate > 0 && sampleRate.isFinite) { return "sampleRate must be positive, got \(sampleRate)" }
        if dimension <= 0 || layers < 0 || mlpRatio <= 0 { return "dimension \(dimension) and mlpRatio \(mlpRatio) must be positive and layers \(layers) not negative" }
        if heads <= 0 || dimension % heads != 0 { return "dimension \(dimension) is not divisible by \(heads) heads" }
        if dimension % 2 != 0 { return "dimension \(dimension) must be even for sinusoidal positions" }
        if window < 2 || window % 2 != 0 || hop <= 0 { return "window \(window) must be even and at least 2, hop \(hop) positive" }
        if lift != .stft && (liftPlanes <= 0 || liftRows <= 0) { return "liftPlanes \(liftPlanes) and liftRows \(liftRows) must be positive" }
        if lift == .both && liftRows != window / 2 + 1 { return "with both lifts liftRows must equal window / 2 + 1 = \(window / 2 + 1), got \(liftRows)" }
        if stageChannels.count != stageTimeStrides.count || (stageChannels + stageTimeStrides).contains(where: { $0 <= 0 }) {
            return "stageChannels \(stageChannels) and stageTimeStrides \(stageTimeStrides) must be positive and of one length"
        }
        if !(dropout >= 0 && dropout < 1) { return "dropout must be in [0, 1), got \(dropout)" }
        return nil
    }
}

/// Encodes multichannel sensor signals into ``ModalityTokens``.
///
/// ```swift
/// let encoder = SignalEncoder(SignalEncoderConfig(sampleRate: 100, dimension: 64), generator: g)
/// // two IMU recordings at 100 Hz: 6 channels × 300 samples and 3 channels × 120 samples
/// let batch = SignalEncoder.Batch(signals: [imuA, imuB], sampleRate: 100)   // [[Float]] per channel
/// let out = encoder(batch)   // tokens [2, N, 64], mask rows with outputLength(300), outputLength(120) trues
/// ```
public final class SignalEncoder: Module, ModalityEncoder, @unchecked Sendable {
    /// Padded signals: float32 [B, C, S] with each sample's real channels (the first ones) and
    /// samples (the first ones), at `sampleRate` Hz.
    public struct Batch: @unchecked Sendable {
        public let values: Tensor
        /// Real samples per row.
        public let lengths: [Int]
        /// Real channels per row.
        public let channelCounts: [Int]
        public let sampleRate: Double

        public init(values: Tensor, lengths: [Int], channelCounts: [Int]? = nil, sampleRate: Double) {
            precondition(values.rank == 3 && values.dtype == .float32,
                         "SignalEncoder.Batch: values must be float32 [B, C, S], got \(values.dtype) \(values.shape)")
            let (b, c, s) = (values.shape[0], values.shape[1], values.shape[2])
            let counts = channelCounts ?? Array(repeating: c, count: b)
            precondition(lengths.count == b && lengths.allSatisfy { (0...s).contains($0) },
                         "SignalEncoder.Batch: lengths \(lengths) must give 0...\(s) samples for each of \(b) rows")
            precondition(counts.count == b && counts.allSatisfy { (0...c).contains($0) },
                         "SignalEncoder.Batch: channel counts \(counts) must be in 0...\(c) for each of \(b) rows")
            self.values = values
            self.lengths = lengths
            self.channelCounts = counts
            self.sampleRate = sampleRate
        }

        /// Recordings given as channels of samples (`signals[b][c]`, all channels of a recording
        /// of one length), padded with zeros to the largest channel count and length.
        public init(signals: [[[Float]]], sampleRate: Double) {
            let c = signals.map(\.count).max() ?? 0
            let s = signals.flatMap { $0.map(\.count) }.max() ?? 0
            var flat = [Float](repeating: 0, count: signals.count * c * s)
            var lengths: [Int] = []
            for (b, channels) in signals.enumerated() {
                let n = channels.first?.count ?? 0
                precondition(channels.allSatisfy { $0.count == n },
                             "SignalEncoder.Batch: the channels of recording \(b) have different lengths \(channels.map(\.count))")
                for (ch, samples) in channels.enumerated() {
                    flat.replaceSubrange((b * c + ch) * s..<((b * c + ch) * s + n), with: samples)
                }
                lengths.append(n)
            }
            self.init(values: Tensor(flat, shape: [signals.count, c, s]), lengths: lengths,
                      channelCounts: signals.map(\.count), sampleRate: sampleRate)
        }
    }

    @ModuleInfo(key: "lift") public var lift: Conv1d?
    /// The 2-D stages: Conv2d 3×3 (stride 2 over rows, the configured stride over time) → LayerNorm
    /// over channels → GELU.
    @ModuleInfo(key: "stages") public var stages: [ConvolutionStage]
    @ModuleInfo(key: "proj") public var projection: Linear
    @ModuleInfo(key: "channel_pool") public var channelPool: Linear
    @ModuleInfo(key: "dropout") var inputDropout: Dropout
    @ModuleInfo(key: "layers") public var layers: [TransformerEncoderLayer]
    @ModuleInfo(key: "norm") public var norm: LayerNorm
    public let config: SignalEncoderConfig
    /// The windowed DFT as convolution weights [2·(W/2 + 1), 1, W] (stft and both lifts): a
    /// constant of the configuration, so not saved with the weights.
    public let stftBasis: Tensor?

    public var outputDimension: Int { config.dimension }

    public init(_ config: SignalEncoderConfig, generator: Generator) {
        if let problem = config.problem { preconditionFailure("SignalEncoder: \(problem)") }
        self.config = config
        stftBasis = config.lift == .learned ? nil : SignalEncoder.makeSTFTBasis(window: config.window)
        super.init()
        let d = config.dimension
        lift = config.lift == .stft ? nil
            : Conv1d(1, config.liftPlanes * config.liftRows, kernel: config.window, stride: config.hop,
                     padding: config.window / 2, generator: generator)
        var channels = config.mapPlanes, rows = config.mapRows
        stages = zip(config.stageChannels, config.stageTimeStrides).map { out, timeStride in
            defer { channels = out; rows = (rows - 1) / 2 + 1 }
            return ConvolutionStage(channels, out, stride: IntOrPair(2, timeStride), generator: generator)
        }
        projection = Linear(channels * rows, d, generator: generator)
        channelPool = Linear(d, 1, bias: false, generator: generator)
        inputDropout = Dropout(config.dropout, generator: generator)
        layers = (0..<config.layers).map { _ in
            let layer = TransformerEncoderLayer(dimension: d, heads: config.heads, mlpHiddenSize: config.mlpRatio * d,
                                                activation: .gelu, placement: .pre, dropout: config.dropout, generator: generator)
            SequenceLengths.removeKeyBias(layer.attention)
            return layer
        }
        norm = LayerNorm(d)
    }

    /// The windowed DFT as convolution weights [2·(W/2 + 1), 1, W]: cosine rows then sine rows of
    /// a periodic Hann window (`torch.stft`'s default window).
    static func makeSTFTBasis(window: Int) -> Tensor {
        let bins = window / 2 + 1, hann = STFT.hannWindow(window)
        var w = [Float](repeating: 0, count: 2 * bins * window)
        for k in 0..<bins {
            for j in 0..<window {
                let angle = 2 * Double.pi * Double((k * j) % window) / Double(window)
                w[k * window + j] = Float(hann[j] * Foundation.cos(angle))
                w[(bins + k) * window + j] = Float(-hann[j] * Foundation.sin(angle))
            }
        }
        return Tensor(w, shape: [2 * bins, 1, window])
    }

    /// Lift frames for `length` samples: `⌊length / hop⌋ + 1` centred windows (0 for no samples).
    public func liftFrames(forInputLength length: Int) -> Int {
        SequenceLengths.convolutionOutput(length, kernel: config.window, stride: config.hop, padding: config.window / 2)
    }

    /// Tokens for `length` samples: the lift frames through each stage's time stride
    /// (`⌊(n − 1) / s⌋ + 1`).
    public func outputLength(forInputLength length: Int) -> Int {
        config.stageTimeStrides.reduce(liftFrames(forInputLength: length)) { n, s in
            SequenceLengths.convolutionOutput(n, kernel: 3, stride: s, padding: 1)
        }
    }

    /// tokens [B, N, D] with N = `outputLength(forInputLength: S)`, mask [B, N] with
    /// `outputLength(forInputLength: lengths[b])` leading trues (none for a row with no channels).
    /// Padded positions hold 0.
    public func callAsFunction(_ batch: Batch) -> ModalityTokens {
        precondition(batch.sampleRate == config.sampleRate,
                     "SignalEncoder: the batch is sampled at \(batch.sampleRate) Hz but the encoder reads \(config.sampleRate) Hz; resample it first (OmniData's Resampler)")
        var x = batch.values                                                           // [B, C, S]
        let (b, c) = (x.shape[0], Swift.max(x.shape[1], 1))
        if x.shape[1] == 0 || x.shape[2] == 0 {
            // nothing to read: one masked frame of zeros keeps the shapes valid
            x = Tensor.zeros([b, c, Swift.max(x.shape[2], 1)])
        }
        let lengths = zip(batch.lengths, batch.channelCounts).map { $1 == 0 ? 0 : $0 }
        x = config.normalizeChannels
            ? SequenceLengths.standardized(x, lengths: lengths)
            : SequenceLengths.zeroingPadding(x, lengths: lengths, axis: 2)
        let s = x.shape[2]
        let channelLengths = lengths.flatMap { Array(repeating: $0, count: c) }            // per [B·C] row
        let flat = x.reshaped([b * c, 1, s])                                               // [B·C, 1, S]

        // the 2-D map [B·C, K, F, T]
        var planes: [Tensor] = []
        if let lift {
            let lifted = lift(flat)                                                        // [B·C, K·F, T]
            planes.append(lifted.reshaped([b * c, config.liftPlanes, config.liftRows, lifted.shape[2]]))
        }
        if let stftBasis {
            let bins = config.window / 2 + 1
            let spectrum = flat.conv1d(weight: stftBasis, stride: config.hop, padding: config.window / 2)   // [B·C, 2F, T]
            let parts = spectrum.split(sizes: [bins, bins], axis: 1)
            let magnitude = (parts[0].square() + parts[1].square() + 1e-12).sqrt()         // [B·C, F, T]
            planes.append((magnitude + 1).log().unsqueezed(axis: 1))                       // [B·C, 1, F, T]
        }
        var map = planes.count == 1 ? planes[0] : Tensor.concatenated(planes, axis: 1)     // [B·C, K, F, T]
        var frames = channelLengths.map { liftFrames(forInputLength: $0) }
        map = SequenceLengths.zeroingPadding(map, lengths: frames, axis: 3)

        for stage in stages {
            map = stage(map)                                                               // [B·C, O, F', T']
            frames = frames.map { SequenceLengths.convolutionOutput($0, kernel: 3, stride: stage.stride.width, padding: 1) }
            map = SequenceLengths.zeroingPadding(map, lengths: frames, axis: 3)
        }
        let t = map.shape[3]
        let perStep = map.permuted([0, 3, 1, 2]).reshaped([b * c, t, map.shape[1] * map.shape[2]])   // [B·C, T', O·F']
        let channelTokens = projection(perStep).reshaped([b, c, t, config.dimension])      // [B, C, T', D]

        // attention pooling over real channels
        var channelMask = [Bool](repeating: false, count: b * c)
        for (row, n) in batch.channelCounts.enumerated() { for ch in 0..<n { channelMask[row * c + ch] = true } }
        // A large finite score rather than -inf: padded channels still get weight exp(-1e30) = 0, and
        // a row without channels gets finite uniform weights (no NaN in the backward pass) that the
        // `where` below then discards.
        let realChannel = Tensor(channelMask, shape: [b, c, 1, 1])
        let scores = channelPool(channelTokens)                                            // [B, C, T', 1]
        let weights = Tensor.where(realChannel, scores, Tensor(-1e30)).softmax(axis: 1)    // [B, C, T', 1]
        let pooled = Tensor.where(realChannel, weights * channelTokens, Tensor(0)).sum(axis: 1)   // [B, T', D]

        let tokenCounts = lengths.map { outputLength(forInputLength: $0) }
        let mask = SequenceLengths.mask(tokenCounts, count: t)                             // [B, T']
        var h = inputDropout(SinusoidalPositionalEncoding(dimension: config.dimension)(pooled))
        for layer in layers { h = layer(h, keyPadding: mask).output }                     // [B, T', D]
        h = SequenceLengths.zeroingPadding(norm(h), lengths: tokenCounts, axis: 1)
        return ModalityTokens(tokens: h, mask: mask)
    }

    public override var summary: String {
        "SignalEncoder(\(config.lift.rawValue) lift, \(config.sampleRate) Hz, dimension: \(config.dimension), stages: \(config.stageChannels), layers: \(config.layers))"
    }
}
