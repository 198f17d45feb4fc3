import Foundation
import OmniTensor

/// Audio files (WAV, FLAC, Ogg through libsndfile) to a waveform or Whisper's log-mel
/// spectrogram, at a fixed sample rate.
///
/// Steps: decode (``AudioFile``), mono mix-down (unless `mono` is false), band-limited
/// resampling to `sampleRate` (``Resampler``), an optional cut to `maxDuration` seconds (a random
/// window drawn from the sample's generator when `randomCrop`, else the start), then the output:
/// - `.waveform`: `[S]` float32 (mono) or `[C, S]` (channels kept); the sample axis varies;
/// - `.logMel(filters:)`: ``WhisperMel/logMelSpectrogram(samples:nMels:filters:)`` `[nMels, T]`
///   with `filters` the `[nMels, 201]` matrix from Whisper's `mel_filters.npz`; needs mono 16 kHz.
///
/// `augment` (e.g. SpecAugment masks) runs last on the output tensor.
///
/// ```swift
/// let filters = try NPZ.read(contentsOf: Assets.file("whisper/mel_filters.npz").path)["mel_80"]!
/// let audio = AudioDecoder(output: .logMel(filters: filters), maxDuration: 30)
/// ```
public struct AudioDecoder: ModalityDecoder {
    public enum Output: Sendable {
        case waveform
        case logMel(filters: Tensor)
    }

    public let sampleRate: Int
    public let mono: Bool
    public let maxDuration: Double?
    public let randomCrop: Bool
    public let output: Output
    public let padValue: Double
    let augment: (@Sendable (Tensor, Generator) throws -> Tensor)?

    public var variableAxes: [Int] {
        if case .waveform = output, mono { return [0] }
        return [1]
    }

    public init(sampleRate: Int = WhisperMel.sampleRate, mono: Bool = true, output: Output = .waveform,
                maxDuration: Double? = nil, randomCrop: Bool = false, padValue: Double = 0,
                augment: (@Sendable (Tensor, Generator) throws -> Tensor)? = nil) {
        precondition(sampleRate > 0, "AudioDecoder: sampleRate must be positive, got \(sampleRate)")
        precondition(maxDuration.map { $0 > 0 && $0.isFinite } ?? true,
                     "AudioDecoder: maxDuration must be positive, got \(maxDuration!)")
        if case .logMel(let filters) = output {
            precondition(mono && sampleRate == WhisperMel.sampleRate,
                         "AudioDecoder: the log-mel output needs mono audio at \(WhisperMel.sampleRate) Hz")
            precondition(filters.rank == 2 && filters.shape[1] == WhisperMel.nFft / 2 + 1,
                         "AudioDecoder: mel filters must be [nMels, \(WhisperMel.nFft / 2 + 1)], got \(filters.shape)")
        }
        self.sampleRate = sampleRate
        self.mono = mono
        self.output = output
        self.maxDuration = maxDuration
        self.randomCrop = randomCrop
        self.padValue = padValue
        self.augment = augment
    }

    public func decode(_ input: DecoderInput, context: DecodeContext) throws -> Tensor {
        guard case .file(let url) = input else {
            throw DataLoaderError(kind: .decode, reason: "audio must be a file path, got inline text")
        }
        let file = try AudioFile(contentsOf: url.path)
        let resampler = Resampler(from: file.sampleRate, to: sampleRate)
        var channels: [[Float]]
        if mono {
            channels = [resampler.resample(file.monoSamples())]
        } else {
            channels = (0..<file.channels).map { c in
                resampler.resample(stride(from: c, to: file.samples.count, by: file.channels).map { file.samples[$0] })
            }
        }
        if let maxDuration {
            let limit = Swift.max(1, Int((maxDuration * Double(sampleRate)).rounded(.down)))
            let n = channels[0].count
            if n > limit {
                let start = randomCrop ? context.generator.nextInt(below: n - limit + 1) : 0
                channels = channels.map { Array($0[start..<(start + limit)]) }
            }
        }
        var x: Tensor
        switch output {
        case .waveform:
            let n = channels[0].count
            x = mono ? Tensor(channels[0], shape: [n])                     // [S]
                     : Tensor(channels.flatMap { $0 }, shape: [channels.count, n])  // [C, S]
        case .logMel(let filters):
            let samples = channels[0]
            let needed = WhisperMel.nFft / 2 + 1
            guard samples.count >= needed else {
                throw DataLoaderError(kind: .decode, file: url.path,
                                      reason: "\(samples.count) samples at \(sampleRate) Hz are too few for one mel frame (needs \(needed))")
            }
            x = WhisperMel.logMelSpectrogram(samples: samples, nMels: filters.shape[0], filters: filters)  // [nMels, T]
        }
        if let augment { x = try augment(x, context.generator) }
        return x
    }
}
