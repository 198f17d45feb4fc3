// AudioEncoder: both front ends against PyTorch references (each sample alone, unpadded), the
// wav2vec 2.0 length arithmetic, padding invariance, masks, and gradients.
import Foundation
import Testing
@testable import OmniData
@testable import OmniModels
@testable import OmniNN
@testable import OmniTensor

@Suite struct AudioEncoderTests {
    /// The fixture's waveform model: wav2vec 2.0's kernels and strides with 6 channels per conv.
    static let waveformConfig = AudioEncoderConfig(frontend: .waveform, dimension: 8, layers: 1, heads: 2, mlpRatio: 2,
                                                   convChannels: Array(repeating: 6, count: 7), positionKernel: 4, positionGroups: 2)
    static let logMelConfig = AudioEncoderConfig.whisper(melBins: 6, dimension: 8, layers: 1, heads: 2, mlpRatio: 2)

    @Test func waveformEncoderMatchesPyTorchOnAPaddedBatch() throws {
        let fixture = try OmniFixture("audio_waveform")
        let encoder = AudioEncoder(Self.waveformConfig, generator: Generator(seed: 0))
        try encoder.load(fixture.params)
        encoder.eval()
        let lengths = fixture.ints("lengths")                           // [2100, 1450, 399]
        // the padded tail holds random samples in the fixture: they must be ignored
        let out = encoder(AudioEncoder.Batch(waveforms: fixture.input("waveforms"), lengths: lengths))
        let frames = [6, 4, 0]                                            // ⌊(n − 400) / 320⌋ + 1, none below 400
        #expect(lengths.map { encoder.outputLength(forInputLength: $0) } == frames)
        #expect(out.tokens.shape == [3, 6, 8])
        expectMask(out.mask, counts: frames, length: 6)
        expectZeroPadding(out)
        for (b, n) in frames.enumerated() where n > 0 {
            expectClose(realRows(out.tokens, sample: b, count: n), values(fixture.output("tokens\(b)")!),
                        shape: [n, 8], atol: 1e-5, rtol: 1e-4, "sample \(b)")
        }
    }

    @Test func logMelEncoderMatchesPyTorchOnAPaddedBatch() throws {
        let fixture = try OmniFixture("audio_logmel")
        let encoder = AudioEncoder(Self.logMelConfig, generator: Generator(seed: 0))
        try encoder.load(fixture.params)
        encoder.eval()
        let frames = fixture.ints("frames")                               // [9, 6, 1]
        let out = encoder(AudioEncoder.Batch(logMel: fixture.input("mel"), frames: frames))
        let tokens = [5, 3, 1]                                            // ⌈F / 2⌉
        #expect(out.tokens.shape == [3, 5, 8])
        expectMask(out.mask, counts: tokens, length: 5)
        expectZeroPadding(out)
        for (b, n) in tokens.enumerated() {
            expectClose(realRows(out.tokens, sample: b, count: n), values(fixture.output("tokens\(b)")!),
                        shape: [n, 8], atol: 1e-5, rtol: 1e-4, "sample \(b)")
        }
    }

    @Test func wav2vecLengthArithmeticMatchesTheClosedFormAndTheConvolutions() {
        let config = AudioEncoderConfig(frontend: .waveform, dimension: 8, layers: 0, heads: 2,
                                        convChannels: Array(repeating: 4, count: 7), positionKernel: 4, positionGroups: 2)
        #expect(config.receptiveField == 400 && config.hop == 320)
        let encoder = AudioEncoder(config, generator: Generator(seed: 1))
        // the per-layer floor arithmetic composes to ⌊(n − R) / hop⌋ + 1: a frame exists iff its window fits
        for n in 0...5000 {
            let direct = n < 400 ? 0 : (n - 400) / 320 + 1
            #expect(encoder.outputLength(forInputLength: n) == direct, "n = \(n)")
        }
        // and the convolutions produce exactly that many frames
        GradMode.withoutGrad {
            for n in [400, 719, 720, 1039, 1040, 1999] {
                let frames = encoder.featureExtractor!(Tensor.zeros([1, n])).shape[2]
                #expect(frames == encoder.outputLength(forInputLength: n), "n = \(n): \(frames) frames")
            }
        }
        let whisper = AudioEncoder(.whisper(melBins: 4, dimension: 8, layers: 0, heads: 2), generator: Generator(seed: 1))
        #expect((0...9).map { whisper.outputLength(forInputLength: $0) } == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5])
    }

    @Test func paddingDoesNotChangeRealFrames() {
        let g = Generator(seed: 11)
        let short = Tensor.normal([1000], generator: g).toArray()
        let long = Tensor.normal([2300], generator: g).toArray()
        for normalize in [true, false] {
            var config = Self.waveformConfig
            config.normalizeWaveform = normalize
            config.layers = 2
            let encoder = AudioEncoder(config, generator: Generator(seed: 12))
            encoder.eval()
            let alone = encoder(AudioEncoder.Batch(waveforms: [short]))
            // padded with noise instead of zeros, so a leak would show
            let padded = Tensor(long + short + Tensor.normal([1300], generator: g).toArray(), shape: [2, 2300])
            let batch = encoder(AudioEncoder.Batch(waveforms: padded, lengths: [2300, 1000]))
            expectMask(batch.mask, counts: [6, 2], length: 6)
            expectClose(realRows(batch.tokens, sample: 1, count: 2), values(realRows(alone.tokens, sample: 0, count: 2)),
                        atol: 1e-5, rtol: 0, "normalize \(normalize)")
        }
    }

    @Test func logMelPaddingDoesNotChangeRealFrames() throws {
        let encoder = AudioEncoder(.whisper(melBins: 5, dimension: 8, layers: 2, heads: 2), generator: Generator(seed: 13))
        encoder.eval()
        let g = Generator(seed: 14)
        let short = Tensor.normal([1, 5, 7], generator: g)
        let long = Tensor.normal([1, 5, 12], generator: g)
        let alone = encoder(AudioEncoder.Batch(logMel: short, frames: [7]))
        let noise = Tensor.normal([1, 5, 5], generator: g)
        let padded = Tensor.concatenated([long, Tensor.concatenated([short, noise], axis: 2)], axis: 0)   // [2, 5, 12]
        let batch = encoder(AudioEncoder.Batch(logMel: padded, frames: [12, 7]))
        expectMask(batch.mask, counts: [6, 4], length: 6)
        expectClose(realRows(batch.tokens, sample: 1, count: 4), values(realRows(alone.tokens, sample: 0, count: 4)),
                    atol: 1e-5, rtol: 0)
    }

    @Test func logMelBatchFromWaveformsUsesWhisperMel() throws {
        // filters: any [M, 201] bank works for the bookkeeping; the values are WhisperMel's own
        let filters = Tensor.uniform([4, 201], low: 0, high: 0.01, generator: Generator(seed: 15))
        let g = Generator(seed: 16)
        let a = Tensor.normal([1600], std: 0.1, generator: g).toArray()
        let b = Tensor.normal([800], std: 0.1, generator: g).toArray()
        let batch = AudioEncoder.Batch.logMel(waveforms: [a, b, [0.5, 0.25]], filters: filters)
        #expect(batch.values.shape == [3, 4, 10] && batch.lengths == [10, 5, 0])
        let melB = WhisperMel.logMelSpectrogram(samples: b, nMels: 4, filters: filters)
        expectClose(batch.values.narrowed(axis: 0, start: 1, length: 1).narrowed(axis: 2, start: 0, length: 5).reshaped([4, 5]),
                    values(melB), atol: 0, rtol: 0)
        #expect(batch.values.narrowed(axis: 0, start: 2, length: 1).toArray().allSatisfy { $0 == 0 })
    }

    @Test func everyParameterGetsAGradient() {
        var waveform = Self.waveformConfig
        waveform.layers = 2
        let encoder = AudioEncoder(waveform, generator: Generator(seed: 17))
        let g = Generator(seed: 18)
        let batch = AudioEncoder.Batch(waveforms: [Tensor.normal([1500], generator: g).toArray(), Tensor.normal([900], generator: g).toArray()])
        expectGradientsEverywhere(encoder) { m in weightedTokenLoss(m(batch)) }

        let whisper = AudioEncoder(.whisper(melBins: 4, dimension: 8, layers: 2, heads: 2), generator: Generator(seed: 19))
        let mel = AudioEncoder.Batch(logMel: Tensor.normal([2, 4, 9], generator: g), frames: [9, 5])
        expectGradientsEverywhere(whisper) { m in weightedTokenLoss(m(mel)) }
    }

    @Test func batchesShorterThanOneWindowGiveMaskedFrames() {
        let encoder = AudioEncoder(Self.waveformConfig, generator: Generator(seed: 20))
        encoder.eval()
        let out = encoder(AudioEncoder.Batch(waveforms: [[0.1, 0.2, 0.3], []]))
        #expect(out.tokens.shape == [2, 1, 8])
        expectMask(out.mask, counts: [0, 0], length: 1)
        expectZeroPadding(out)
    }

    @Test func waveformBatchFromAMask() {
        let mask = Tensor([true, true, true, false, true, false, false, false], shape: [2, 4])
        let batch = AudioEncoder.Batch(waveforms: Tensor.zeros([2, 4]), mask: mask)
        #expect(batch.lengths == [3, 1])
    }

    @Test func aLogMelEncoderRejectsWaveforms() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let encoder = AudioEncoder(.whisper(melBins: 4, dimension: 8, layers: 0, heads: 2), generator: Generator(seed: 0))
            _ = encoder(AudioEncoder.Batch(waveforms: [[0, 1, 2]]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("the log-mel front end needs a log-mel batch"), "stderr was: \(stderr)")
    }
}
