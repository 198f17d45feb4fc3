// SignalEncoder: against a PyTorch reference whose STFT plane comes from torch.stft (each recording
// alone, unpadded, with its own channel count), padding of samples and channels, the length
// arithmetic, the sampling-rate contract, and gradients for every lift.
import Foundation
import Testing
@testable import OmniData
@testable import OmniModels
@testable import OmniNN
@testable import OmniTensor

@Suite struct SignalEncoderTests {
    static let fixtureConfig = SignalEncoderConfig(sampleRate: 100, dimension: 8, lift: .both, window: 8, hop: 4, liftPlanes: 2,
                                                   stageChannels: [4, 6], stageTimeStrides: [1, 2], layers: 1, heads: 2, mlpRatio: 2)

    @Test func matchesPyTorchOnAPaddedBatch() throws {
        let fixture = try OmniFixture("signal_encoder")
        let encoder = SignalEncoder(Self.fixtureConfig, generator: Generator(seed: 0))
        try encoder.load(fixture.params)
        encoder.eval()
        let lengths = fixture.ints("lengths"), channels = fixture.ints("channels")   // [50, 37, 13], [3, 2, 1]
        // padded samples and channels hold random values in the fixture: they must be ignored
        let batch = SignalEncoder.Batch(values: fixture.input("signals"), lengths: lengths, channelCounts: channels, sampleRate: 100)
        let out = encoder(batch)
        let tokens = [7, 5, 2]          // lift frames ⌊n / 4⌋ + 1 = 13, 10, 4; then stride 1 and stride 2
        #expect(lengths.map { encoder.outputLength(forInputLength: $0) } == tokens)
        #expect(out.tokens.shape == [3, 7, 8])
        expectMask(out.mask, counts: tokens, length: 7)
        expectZeroPadding(out)
        for (b, n) in tokens.enumerated() {
            expectClose(realRows(out.tokens, sample: b, count: n), values(fixture.output("tokens\(b)")!),
                        shape: [n, 8], atol: 1e-5, rtol: 1e-4, "recording \(b)")
        }
    }

    @Test func stftBasisIsTheWindowedDFT() {
        // X[k] = Σ_j hann[j] x[j] e^{-2πi kj/W}: against a direct Float64 sum on one window
        let w = 8
        let basis = SignalEncoder.makeSTFTBasis(window: w)                       // [2·5, 1, 8]
        let x = (0..<w).map { Double($0 % 3) - 0.7 * Double($0) }
        let spectrum = values(Tensor(x.map(Float.init), shape: [1, 1, w]).conv1d(weight: basis))
        var expected: [Double] = []
        for part in 0..<2 {
            for k in 0...(w / 2) {
                var s = 0.0
                for j in 0..<w {
                    let hann = 0.5 - 0.5 * cos(2 * Double.pi * Double(j) / Double(w))
                    let angle = 2 * Double.pi * Double(k * j) / Double(w)
                    s += hann * x[j] * (part == 0 ? cos(angle) : -sin(angle))
                }
                expected.append(s)
            }
        }
        expectClose(Tensor(spectrum.map(Float.init)), expected, atol: 1e-5, rtol: 1e-5)
    }

    @Test func paddingOfSamplesAndChannelsDoesNotChangeRealTokens() {
        for lift in [SignalEncoderConfig.Lift.learned, .stft, .both] {
            let config = SignalEncoderConfig(sampleRate: 50, dimension: 8, lift: lift, window: 6, hop: 3, liftPlanes: 2,
                                             stageChannels: [3, 4], stageTimeStrides: [2, 1], layers: 2, heads: 2)
            let encoder = SignalEncoder(config, generator: Generator(seed: 21))
            encoder.eval()
            let g = Generator(seed: 22)
            let short = (0..<2).map { _ in Tensor.normal([17], generator: g).toArray() }     // 2 channels × 17
            let long = (0..<4).map { _ in Tensor.normal([40], generator: g).toArray() }      // 4 channels × 40
            let alone = encoder(SignalEncoder.Batch(signals: [short], sampleRate: 50))
            // pad with noise in both the extra samples and the extra channels
            var padded = [Float]()
            for ch in long { padded += ch }
            for ch in 0..<4 { padded += (ch < 2 ? short[ch] : Tensor.normal([17], generator: g).toArray()) + Tensor.normal([23], generator: g).toArray() }
            let batch = encoder(SignalEncoder.Batch(values: Tensor(padded, shape: [2, 4, 40]), lengths: [40, 17],
                                                    channelCounts: [4, 2], sampleRate: 50))
            let n = encoder.outputLength(forInputLength: 17)
            #expect(alone.length == n && n == 3, "\(lift): \(alone.length) tokens")
            expectMask(batch.mask, counts: [encoder.outputLength(forInputLength: 40), n], length: batch.length)
            expectClose(realRows(batch.tokens, sample: 1, count: n), values(realRows(alone.tokens, sample: 0, count: n)),
                        atol: 1e-5, rtol: 0, "\(lift) lift")
        }
    }

    @Test func lengthArithmetic() {
        let encoder = SignalEncoder(SignalEncoderConfig(sampleRate: 10, dimension: 8, window: 8, hop: 4, stageChannels: [4, 4, 4],
                                                        stageTimeStrides: [2, 1, 3], layers: 0, heads: 2),
                                    generator: Generator(seed: 23))
        for n in 0...200 {
            let frames = n == 0 ? 0 : n / 4 + 1                                     // torch.stft(center=True)'s frame count
            #expect(encoder.liftFrames(forInputLength: n) == frames)
            var t = frames
            for s in [2, 1, 3] { t = t == 0 ? 0 : (t - 1) / s + 1 }
            #expect(encoder.outputLength(forInputLength: n) == t, "n = \(n)")
        }
        // and the convolutions agree with the arithmetic
        let out = encoder(SignalEncoder.Batch(signals: [[Array(repeating: 0.5, count: 61)]], sampleRate: 10))
        #expect(out.length == encoder.outputLength(forInputLength: 61))
    }

    @Test func recordingsWithoutChannelsOrSamplesAreMasked() {
        let encoder = SignalEncoder(Self.fixtureConfig, generator: Generator(seed: 24))
        encoder.eval()
        let out = encoder(SignalEncoder.Batch(values: Tensor.normal([3, 2, 20], generator: Generator(seed: 25)),
                                              lengths: [20, 0, 20], channelCounts: [2, 2, 0], sampleRate: 100))
        expectMask(out.mask, counts: [3, 0, 0], length: 3)
        expectZeroPadding(out)
        #expect(out.tokens.toArray().allSatisfy { $0.isFinite })
        let empty = encoder(SignalEncoder.Batch(values: Tensor.zeros([1, 0, 0]), lengths: [0], channelCounts: [0], sampleRate: 100))
        expectMask(empty.mask, counts: [0], length: 1)
    }

    @Test func everyParameterGetsAGradient() {
        for lift in [SignalEncoderConfig.Lift.learned, .stft, .both] {
            let config = SignalEncoderConfig(sampleRate: 50, dimension: 8, lift: lift, window: 6, hop: 3, liftPlanes: 2,
                                             stageChannels: [3, 4], layers: 1, heads: 2)
            let encoder = SignalEncoder(config, generator: Generator(seed: 26))
            let g = Generator(seed: 27)
            // one recording without channels: its NaN-free handling is part of the check
            let batch = SignalEncoder.Batch(values: Tensor.normal([3, 3, 30], generator: g), lengths: [30, 19, 30],
                                            channelCounts: [3, 2, 0], sampleRate: 50)
            expectGradientsEverywhere(encoder) { m in weightedTokenLoss(m(batch)) }
        }
    }

    @Test func aMismatchedSampleRateStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let encoder = SignalEncoder(SignalEncoderConfig(sampleRate: 100, dimension: 8, layers: 0, heads: 2),
                                        generator: Generator(seed: 0))
            _ = encoder(SignalEncoder.Batch(signals: [[[0, 1, 2, 3]]], sampleRate: 1000))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("sampled at 1000.0 Hz but the encoder reads 100.0 Hz"), "stderr was: \(stderr)")
    }
}
