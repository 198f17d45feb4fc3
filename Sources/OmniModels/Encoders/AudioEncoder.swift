// Audio encoder: 16 kHz speech or sound → a sequence of frame tokens for fusion. Two front ends
// feed the same pre-norm Transformer:
//
// - `waveform` (wav2vec 2.0, Baevski et al. 2020, arXiv:2006.11477, the "stable layer norm"
//   variant of transformers' Wav2Vec2 used by wav2vec2-large-lv60):
//
//     samples [B, S] ─ (standardise each sample over its own length)
//       ─ 7 × [Conv1d(k, s) ─ LayerNorm over channels ─ GELU]   kernels (10,3,3,3,3,2,2), strides (5,2,2,2,2,2,2):
//                                                               receptive field 400 samples (25 ms), hop 320 (20 ms)
//       ─ feature_projection: LayerNorm ─ Linear → D
//       ─ + pos_conv_embed: GELU(grouped Conv1d over time, kernel K, padding K/2, last frame dropped for even K)
//       ─ L × pre-norm Transformer blocks ─ norm                  → tokens [B, N, D], 50 per second
//
//   Per-channel LayerNorm (not wav2vec's GroupNorm over time) keeps every frame's features a
//   function of its own receptive field, and the convolutions have no padding, so the first
//   `outputLength(S_b)` frames of a padded row equal those of the sample alone. The positional
//   convolution does pad, so the projected features are zeroed past each sample's frames first
//   (as transformers does), and it sees the zeros it would see at the end of the lone sample.
//   The weight normalisation of wav2vec's positional convolution is not used (a plain weight).
//
// - `logMel` (Whisper, Radford et al. 2022, arXiv:2212.04356): Whisper's log-mel spectrogram
//   (OmniData's `WhisperMel`, 10 ms hop) through a 2-layer conv stem,
//
//     mel [B, M, F] ─ Conv1d(M → D, k3, p1) ─ GELU ─ Conv1d(D → D, k3, s2, p1) ─ GELU   (20 ms per token)
//       ─ + sinusoidal positions ─ L × pre-norm blocks ─ norm
//
//   with the input and the first conv's output zeroed past each sample's frames, so the padded
//   convolutions see the same zeros as for the lone sample.
//
// Keys: `feature_extractor.conv_layers.N.{conv, layer_norm}`, `feature_projection.{layer_norm,
// projection}`, `pos_conv_embed.conv` (waveform); `conv1`, `conv2` (logMel); `layers.N`, `norm`.
// Key projections have no bias (see SequenceLengths.removeKeyBias).

import Foundation
import OmniData
import OmniNN
import OmniTensor

/// Hyper-parameters of an ``AudioEncoder``.
///
/// ```swift
/// var config = AudioEncoderConfig.wav2vec(dimension: 768, layers: 12, heads: 12)     // wav2vec 2.0 base sizes
/// let whisper = AudioEncoderConfig.whisper(melBins: 80, dimension: 384, layers: 4, heads: 6)
/// ```
public struct AudioEncoderConfig: Codable, Sendable, Equatable {
    public enum Frontend: String, Codable, Sendable {
        /// Raw 16 kHz waveforms through wav2vec 2.0's strided convolutions.
        case waveform
        /// Whisper's log-mel spectrogram through a 2-layer conv stem.
        case logMel = "log_mel"
    }

    public var frontend: Frontend
    /// Width D of the produced tokens.
    public var dimension: Int
    /// Transformer blocks.
    public var layers: Int
    /// Attention heads; must divide `dimension`.
    public var heads: Int
    /// MLP hidden size as a multiple of `dimension`.
    public var mlpRatio: Int
    /// Dropout on attention weights and residual branches (training only).
    public var dropout: Float
    /// Output channels of each feature-extractor convolution (waveform).
    public var convChannels: [Int]
    /// Kernel size of each feature-extractor convolution (waveform).
    public var convKernels: [Int]
    /// Stride of each feature-extractor convolution (waveform).
    public var convStrides: [Int]
    /// Kernel of the convolutional relative position embedding over frames (waveform; 128 in wav2vec 2.0).
    public var positionKernel: Int
    /// Groups of that convolution; must divide `dimension` (waveform; 16 in wav2vec 2.0).
    public var positionGroups: Int
    /// Whether each waveform is standardised to zero mean and unit variance over its real samples
    /// first (transformers' `do_normalize` for the layer-norm wav2vec 2.0 models).
    public var normalizeWaveform: Bool
    /// Mel bands of the input spectrogram (logMel; 80 or 128 in Whisper).
    public var melBins: Int

    public init(frontend: Frontend, dimension: Int, layers: Int, heads: Int, mlpRatio: Int = 4, dropout: Float = 0,
                convChannels: [Int] = Array(repeating: 512, count: 7), convKernels: [Int] = [10, 3, 3, 3, 3, 2, 2],
                convStrides: [Int] = [5, 2, 2, 2, 2, 2, 2], positionKernel: Int = 128, positionGroups: Int = 16,
                normalizeWaveform: Bool = true, melBins: Int = 80) {
        self.frontend = frontend
        self.dimension = dimension
        self.layers = layers
        self.heads = heads
        self.mlpRatio = mlpRatio
        self.dropout = dropout
        self.convChannels = convChannels
        self.convKernels = convKernels
        self.convStrides = convStrides
        self.positionKernel = positionKernel
        self.positionGroups = positionGroups
        self.normalizeWaveform = normalizeWaveform
        self.melBins = melBins
    }

    /// The wav2vec 2.0 front end (seven 512-channel convolutions, 20 ms frames) and a Transformer.
    public static func wav2vec(dimension: Int, layers: Int, heads: Int, mlpRatio: Int = 4, dropout: Float = 0,
                               positionKernel: Int = 128, positionGroups: Int = 16) -> AudioEncoderConfig {
        AudioEncoderConfig(frontend: .waveform, dimension: dimension, layers: layers, heads: heads, mlpRatio: mlpRatio,
                           dropout: dropout, positionKernel: positionKernel, positionGroups: positionGroups)
    }

    /// Whisper's log-mel front end and a Transformer.
    public static func whisper(melBins: Int = 80, dimension: Int, layers: Int, heads: Int, mlpRatio: Int = 4,
                               dropout: Float = 0) -> AudioEncoderConfig {
        AudioEncoderConfig(frontend: .logMel, dimension: dimension, layers: layers, heads: heads, mlpRatio: mlpRatio,
                           dropout: dropout, melBins: melBins)
    }

    /// Samples (waveform) or mel frames (logMel) the first token sees.
    public var receptiveField: Int {
        switch frontend {
        case .waveform: return zip(convKernels, convStrides).reversed().reduce(1) { r, ks in (r - 1) * ks.1 + ks.0 }
        case .logMel: return 3
        }
    }

    /// Input samples (waveform) or mel frames (logMel) between consecutive tokens.
    public var hop: Int {
        switch frontend {
        case .waveform: return convStrides.reduce(1, *)
        case .logMel: return 2
        }
    }

    /// Why these sizes cannot build an encoder, or nil.
    public var problem: String? {
        if dimension <= 0 || layers < 0 || mlpRatio <= 0 { return "dimension \(dimension) and mlpRatio \(mlpRatio) must be positive and layers \(layers) not negative" }
        if heads <= 0 || dimension % heads != 0 { return "dimension \(dimension) is not divisible by \(heads) heads" }
        if !(dropout >= 0 && dropout < 1) { return "dropout must be in [0, 1), got \(dropout)" }
        switch frontend {
        case .waveform:
            if convChannels.isEmpty || convChannels.count != convKernels.count || convKernels.count != convStrides.count {
                return "convChannels, convKernels and convStrides must be non-empty and of one length, got \(convChannels.count), \(convKernels.count), \(convStrides.count)"
            }
            if (convChannels + convKernels + convStrides).contains(where: { $0 <= 0 }) {
                return "conv channels, kernels and strides must be positive"
            }
            if positionKernel <= 0 || positionGroups <= 0 || dimension % positionGroups != 0 {
                return "positionKernel \(positionKernel) must be positive and positionGroups \(positionGroups) must divide dimension \(dimension)"
            }
        case .logMel:
            if melBins <= 0 { return "melBins must be positive, got \(melBins)" }
            if dimension % 2 != 0 { return "dimension \(dimension) must be even for sinusoidal positions" }
        }
        return nil
    }
}

/// Encodes padded waveforms or log-mel spectrograms into ``ModalityTokens`` (one token per 20 ms).
///
/// ```swift
/// let encoder = AudioEncoder(.wav2vec(dimension: 256, layers: 4, heads: 4), generator: g)
/// let batch = AudioEncoder.Batch(waveforms: [speechA, speechB])        // [Float] at 16 kHz each
/// let out = encoder(batch)     // tokens [2, N, 256]; mask row b has outputLength(count_b) trues
/// ```
public final class AudioEncoder: Module, ModalityEncoder, @unchecked Sendable {
    /// Padded audio: waveforms [B, S] with lengths in samples, or log-mel spectrograms [B, M, F]
    /// with lengths in frames. Values past a sample's length are ignored (treated as zeros).
    public struct Batch: @unchecked Sendable {
        public enum Kind: Sendable { case waveform, logMel }
        public let kind: Kind
        /// float32 [B, S] (waveform) or [B, M, F] (logMel).
        public let values: Tensor
        /// Real samples (waveform) or frames (logMel) per row.
        public let lengths: [Int]

        /// Padded 16 kHz waveforms [B, S] and each row's length in samples.
        public init(waveforms: Tensor, lengths: [Int]) {
            precondition(waveforms.rank == 2 && waveforms.dtype == .float32,
                         "AudioEncoder.Batch: waveforms must be float32 [B, S], got \(waveforms.dtype) \(waveforms.shape)")
            precondition(lengths.count == waveforms.shape[0] && lengths.allSatisfy { (0...waveforms.shape[1]).contains($0) },
                         "AudioEncoder.Batch: lengths \(lengths) must give 0...\(waveforms.shape[1]) samples for each of \(waveforms.shape[0]) rows")
            kind = .waveform
            values = waveforms
            self.lengths = lengths
        }

        /// Padded waveforms [B, S] and a bool mask [B, S] whose true entries come first in each row.
        public init(waveforms: Tensor, mask: Tensor) {
            precondition(mask.dtype == .bool && mask.shape == waveforms.shape,
                         "AudioEncoder.Batch: mask must be bool \(waveforms.shape), got \(mask.dtype) \(mask.shape)")
            let m = mask.toBoolArray(), s = mask.shape[1]
            let lengths = (0..<mask.shape[0]).map { b in (0..<s).first { !m[b * s + $0] } ?? s }
            precondition((0..<mask.shape[0]).allSatisfy { b in (lengths[b]..<s).allSatisfy { !m[b * s + $0] } },
                         "AudioEncoder.Batch: the mask's true entries must come first in each row (right padding)")
            self.init(waveforms: waveforms, lengths: lengths)
        }

        /// Waveforms of any lengths, right-padded with zeros.
        public init(waveforms: [[Float]]) {
            let s = waveforms.map(\.count).max() ?? 0
            var flat = [Float](repeating: 0, count: waveforms.count * s)
            for (b, w) in waveforms.enumerated() { flat.replaceSubrange(b * s..<(b * s + w.count), with: w) }
            self.init(waveforms: Tensor(flat, shape: [waveforms.count, s]), lengths: waveforms.map(\.count))
        }

        /// Padded log-mel spectrograms [B, M, F] and each row's length in frames.
        public init(logMel: Tensor, frames: [Int]) {
            precondition(logMel.rank == 3 && logMel.dtype == .float32,
                         "AudioEncoder.Batch: log-mel must be float32 [B, M, F], got \(logMel.dtype) \(logMel.shape)")
            precondition(frames.count == logMel.shape[0] && frames.allSatisfy { (0...logMel.shape[2]).contains($0) },
                         "AudioEncoder.Batch: frames \(frames) must give 0...\(logMel.shape[2]) frames for each of \(logMel.shape[0]) rows")
            kind = .logMel
            values = logMel
            lengths = frames
        }

        /// Whisper's log-mel spectrogram of each 16 kHz waveform (`WhisperMel`, `count / 160`
        /// frames; waveforms of 200 samples or fewer give none), right-padded with zeros.
        ///
        /// - Parameter filters: the [M, 201] mel filter bank (`mel_80` of Whisper's `mel_filters.npz`).
        public static func logMel(waveforms: [[Float]], filters: Tensor) -> Batch {
            let bins = filters.shape[0]
            let mels = waveforms.map { w -> Tensor? in
                w.count > WhisperMel.nFft / 2 ? WhisperMel.logMelSpectrogram(samples: w, nMels: bins, filters: filters) : nil
            }
            let frames = mels.map { $0?.shape[1] ?? 0 }
            let f = frames.max() ?? 0
            let rows = mels.map { mel -> Tensor in
                guard let mel else { return Tensor.zeros([bins, f]) }
                return mel.shape[1] == f ? mel : mel.padded([(0, 0), (0, f - mel.shape[1])])
            }
            let values = rows.isEmpty ? Tensor.zeros([0, bins, 0]) : Tensor.stacked(rows, axis: 0)   // [B, M, F]
            return Batch(logMel: values, frames: frames)
        }
    }

    /// One feature-extractor stage: Conv1d → LayerNorm over channels → GELU.
    public final class ConvLayer: Module, @unchecked Sendable {
        @ModuleInfo(key: "conv") public var conv: Conv1d
        @ModuleInfo(key: "layer_norm") public var layerNorm: LayerNorm

        init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int, generator: Generator) {
            super.init()
            conv = Conv1d(inChannels, outChannels, kernel: kernel, stride: stride, generator: generator)
            layerNorm = LayerNorm(outChannels)
        }

        /// [B, C, T] → [B, O, T']
        func callAsFunction(_ x: Tensor) -> Tensor {
            layerNorm(conv(x).transposed(1, 2)).transposed(1, 2).gelu()
        }
    }

    /// wav2vec 2.0's convolutional feature encoder (`feature_extractor`).
    public final class FeatureExtractor: Module, @unchecked Sendable {
        @ModuleInfo(key: "conv_layers") public var convLayers: [ConvLayer]

        init(_ config: AudioEncoderConfig, generator: Generator) {
            super.init()
            var inChannels = 1
            convLayers = config.convChannels.indices.map { i in
                defer { inChannels = config.convChannels[i] }
                return ConvLayer(inChannels, config.convChannels[i], kernel: config.convKernels[i],
                                 stride: config.convStrides[i], generator: generator)
            }
        }

        /// [B, S] → [B, C, T]
        func callAsFunction(_ waveforms: Tensor) -> Tensor {
            convLayers.reduce(waveforms.unsqueezed(axis: 1)) { x, layer in layer(x) }
        }
    }

    /// LayerNorm → Linear from the last conv's channels to D (`feature_projection`).
    public final class FeatureProjection: Module, @unchecked Sendable {
        @ModuleInfo(key: "layer_norm") public var layerNorm: LayerNorm
        @ModuleInfo(key: "projection") public var projection: Linear
        @ModuleInfo(key: "dropout") var dropout: Dropout

        init(_ channels: Int, _ dimension: Int, dropout p: Float, generator: Generator) {
            super.init()
            layerNorm = LayerNorm(channels)
            projection = Linear(channels, dimension, generator: generator)
            dropout = Dropout(p, generator: generator)
        }

        /// [B, T, C] → [B, T, D]
        func callAsFunction(_ x: Tensor) -> Tensor { dropout(projection(layerNorm(x))) }
    }

    /// The convolutional relative position embedding (`pos_conv_embed`): a grouped convolution over
    /// frames whose output is added to the features.
    public final class PositionalConvolution: Module, @unchecked Sendable {
        @ModuleInfo(key: "conv") public var conv: Conv1d
        let kernel: Int

        init(_ dimension: Int, kernel: Int, groups: Int, generator: Generator) {
            self.kernel = kernel
            super.init()
            conv = Conv1d(dimension, dimension, kernel: kernel, padding: kernel / 2, groups: groups, generator: generator)
        }

        /// [B, T, D] → [B, T, D] (the embedding only; the caller adds it)
        func callAsFunction(_ x: Tensor) -> Tensor {
            var y = conv(x.transposed(1, 2))                                   // [B, D, T + 1 − K % 2]
            // an even kernel with padding K/2 yields one frame too many (wav2vec's SamePad drops it)
            if kernel % 2 == 0 { y = y.narrowed(axis: 2, start: 0, length: x.shape[1]) }
            return y.gelu().transposed(1, 2)                                   // [B, T, D]
        }
    }

    @ModuleInfo(key: "feature_extractor") public var featureExtractor: FeatureExtractor?
    @ModuleInfo(key: "feature_projection") public var featureProjection: FeatureProjection?
    @ModuleInfo(key: "pos_conv_embed") public var positionalConvolution: PositionalConvolution?
    @ModuleInfo(key: "conv1") public var conv1: Conv1d?
    @ModuleInfo(key: "conv2") public var conv2: Conv1d?
    @ModuleInfo(key: "dropout") var inputDropout: Dropout
    @ModuleInfo(key: "layers") public var layers: [TransformerEncoderLayer]
    @ModuleInfo(key: "norm") public var norm: LayerNorm
    public let config: AudioEncoderConfig

    public var outputDimension: Int { config.dimension }

    public init(_ config: AudioEncoderConfig, generator: Generator) {
        if let problem = config.problem { preconditionFailure("AudioEncoder: \(problem)") }
        self.config = config
        super.init()
        let d = config.dimension
        switch config.frontend {
        case .waveform:
            featureExtractor = FeatureExtractor(config, generator: generator)
            featureProjection = FeatureProjection(config.convChannels.last!, d, dropout: config.dropout, generator: generator)
            positionalConvolution = PositionalConvolution(d, kernel: config.positionKernel, groups: config.positionGroups,
                                                          generator: generator)
            conv1 = nil
            conv2 = nil
        case .logMel:
            featureExtractor = nil
            featureProjection = nil
            positionalConvolution = nil
            conv1 = Conv1d(config.melBins, d, kernel: 3, padding: 1, generator: generator)
            conv2 = Conv1d(d, d, kernel: 3, stride: 2, padding: 1, generator: generator)
        }
        inputDropout = Dropout(config.dropout, generator: generator)
        layers = (0..<config.layers).map { _ in
            let layer = TransformerEncoderLayer(dimension: d, heads: config.heads, mlpHiddenSize: config.mlpRatio * d,
                                                activation: .gelu, placement: .pre, dropout: config.dropout, generator: generator)
            SequenceLengths.removeKeyBias(layer.attention)
            return layer
        }
        norm = LayerNorm(d)
    }

    /// Tokens produced for an input of `length` samples (waveform) or mel frames (logMel).
    ///
    /// Waveform: each convolution maps n to `⌊(n − k) / s⌋ + 1` (0 when n < k), which composes to
    /// `⌊(n − receptiveField) / hop⌋ + 1` = `⌊(n − 400) / 320⌋ + 1` for wav2vec 2.0 (0 below 400
    /// samples). logMel: `⌈n / 2⌉`.
    public func outputLength(forInputLength length: Int) -> Int {
        switch config.frontend {
        case .waveform:
            return zip(config.convKernels, config.convStrides).reduce(length) { n, ks in
                SequenceLengths.convolutionOutput(n, kernel: ks.0, stride: ks.1)
            }
        case .logMel:
            return SequenceLengths.convolutionOutput(length, kernel: 3, stride: 2, padding: 1)
        }
    }

    /// tokens [B, N, D] with N = `outputLength(forInputLength: S)` of the padded input (at least 1),
    /// and mask [B, N] with `outputLength(forInputLength: lengths[b])` leading trues per row.
    /// Padded positions hold 0.
    public func callAsFunction(_ batch: Batch) -> ModalityTokens {
        let frames = batch.lengths.map { outputLength(forInputLength: $0) }
        var x: Tensor
        switch config.frontend {
        case .waveform:
            precondition(batch.kind == .waveform, "AudioEncoder: the waveform front end needs a waveform batch, got log-mel")
            var samples = batch.values                                                        // [B, S]
            // a batch shorter than one receptive field still yields one (masked) frame
            if samples.shape[1] < config.receptiveField {
                samples = samples.padded([(0, 0), (0, config.receptiveField - samples.shape[1])])
            }
            samples = config.normalizeWaveform
                ? SequenceLengths.standardized(samples, lengths: batch.lengths)
                : SequenceLengths.zeroingPadding(samples, lengths: batch.lengths, axis: 1)
            let features = featureExtractor!(samples)                                           // [B, C, T]
            x = featureProjection!(features.transposed(1, 2))                                   // [B, T, D]
            x = SequenceLengths.zeroingPadding(x, lengths: frames, axis: 1)
            x = x + positionalConvolution!(x)                                                   // [B, T, D]
        case .logMel:
            precondition(batch.kind == .logMel, "AudioEncoder: the log-mel front end needs a log-mel batch, got waveforms")
            precondition(batch.values.shape[1] == config.melBins,
                         "AudioEncoder: log-mel input \(batch.values.shape) must have \(config.melBins) mel bands")
            var mel = batch.values                                                              // [B, M, F]
            if mel.shape[2] == 0 { mel = mel.padded([(0, 0), (0, 0), (0, 1)]) }
            mel = SequenceLengths.zeroingPadding(mel, lengths: batch.lengths, axis: 2)
            var h = conv1!(mel).gelu()                                                          // [B, D, F]
            h = SequenceLengths.zeroingPadding(h, lengths: batch.lengths, axis: 2)
            h = conv2!(h).gelu()                                                                // [B, D, ⌈F/2⌉]
            x = SinusoidalPositionalEncoding(dimension: config.dimension)(h.transposed(1, 2))   // [B, N, D]
        }
        let mask = SequenceLengths.mask(frames, count: x.shape[1])                              // [B, N]
        x = inputDropout(x)
        for layer in layers { x = layer(x, keyPadding: mask).output }                           // [B, N, D]
        x = SequenceLengths.zeroingPadding(norm(x), lengths: frames, axis: 1)
        return ModalityTokens(tokens: x, mask: mask)
    }

    public override var summary: String {
        "AudioEncoder(\(config.frontend.rawValue), dimension: \(config.dimension), layers: \(config.layers), heads: \(config.heads))"
    }
}
