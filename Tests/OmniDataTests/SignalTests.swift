// Signals from .npy and multichannel audio; resampling, per-channel normalisation, windows and the
// STFT magnitude map, each against a Float64 reference written here from its definition.
import Foundation
import Testing
import OmniNN
import OmniTensor
@testable import OmniData

@Suite struct SignalTests {
    /// A deterministic [C, S] test signal: a sum of two sines per channel plus noise.
    func testSignal(channels: Int, samples: Int, rate: Double = 100, seed: UInt64 = 1) -> Signal {
        let g = Generator(seed: seed)
        var values = [Float]()
        for c in 0..<channels {
            let f1 = 1.5 + Double(c), f2 = 7.0 + 2 * Double(c)
            for i in 0..<samples {
                let t = Double(i) / rate
                values.append(Float(sin(2 * .pi * f1 * t) + 0.5 * cos(2 * .pi * f2 * t) + 0.1 * (g.nextDouble() - 0.5) + Double(c)))
            }
        }
        return Signal(samples: values, channelCount: channels, sampleRate: rate, channelNames: (0..<channels).map { "axis\($0)" })
    }

    // MARK: Files

    @Test func npyInBothLayouts() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let values = (0..<150).map { Float($0) * 0.5 - 3 }
        let path = dir.appending(path: "x.npy").path
        try NPY.write(Tensor(values, shape: [3, 50]), to: path)
        let first = try Signal(npyContentsOf: path, layout: .channelsFirst, sampleRate: 25)
        #expect(first.channelCount == 3 && first.sampleCount == 50 && first.samples == values && first.sampleRate == 25)
        let second = try Signal(npyContentsOf: path, layout: .samplesFirst, sampleRate: 25, channelNames: (0..<50).map { "c\($0)" })
        #expect(second.channelCount == 50 && second.sampleCount == 3)
        for c in 0..<50 { for s in 0..<3 { #expect(second.samples[c * 3 + s] == values[s * 50 + c]) } }
        // 1-D arrays are one channel; integer arrays convert to float32.
        let ints = dir.appending(path: "i.npy").path
        try NPY.write(Tensor([3, -1, 4, 1, -5], dtype: .int32), to: ints)
        let mono = try Signal(npyContentsOf: ints, layout: .samplesFirst, sampleRate: 1)
        #expect(mono.channelCount == 1 && mono.samples == [3, -1, 4, 1, -5])
        let viaExtension = try Signal(contentsOf: path, sampleRate: 25)
        #expect(viaExtension == first)
    }

    @Test func npyBadInput() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cube = dir.appending(path: "cube.npy").path
        try NPY.write(Tensor.zeros([2, 2, 2]), to: cube)
        expectSignalError(file: "cube.npy", containing: "must be [S] or 2-D, got shape [2, 2, 2]") {
            _ = try Signal(npyContentsOf: cube, layout: .channelsFirst, sampleRate: 1)
        }
        let wide = dir.appending(path: "wide.npy").path
        try NPY.write(Tensor.zeros([5000, 2]), to: wide)
        expectSignalError(file: "wide.npy", containing: "5000 channels") {
            _ = try Signal(npyContentsOf: wide, layout: .channelsFirst, sampleRate: 1)
        }
        let empty = dir.appending(path: "empty.npy").path
        try NPY.write(Tensor.zeros([2, 0]), to: empty)
        expectSignalError(file: "empty.npy", containing: "no samples") { _ = try Signal(npyContentsOf: empty, layout: .channelsFirst, sampleRate: 1) }
        // A truncated file: the header promises more data than there is.
        let good = dir.appending(path: "good.npy").path
        try NPY.write(Tensor.zeros([4, 100]), to: good)
        let bytes = try Data(contentsOf: URL(filePath: good))
        let truncated = dir.appending(path: "truncated.npy").path
        FileManager.default.createFile(atPath: truncated, contents: bytes.prefix(bytes.count - 17))
        #expect(throws: SignalError.self) { _ = try Signal(npyContentsOf: truncated, layout: .channelsFirst, sampleRate: 1) }
        do { _ = try Signal(npyContentsOf: truncated, layout: .channelsFirst, sampleRate: 1) } catch { #expect(error.file == truncated) }
        let text = writeScratch("text.npy", "not numpy", in: dir)
        expectSignalError(file: "text.npy", containing: "NUMPY") { _ = try Signal(npyContentsOf: text, layout: .channelsFirst, sampleRate: 1) }
        expectSignalError(file: "good.npy", containing: "sample rate 0.0 must be positive") {
            _ = try Signal(npyContentsOf: good, layout: .channelsFirst, sampleRate: 0)
        }
        expectSignalError(file: "good.npy", containing: "carry no sample rate") { _ = try Signal(contentsOf: good) }
        expectSignalError(file: "x.mat", containing: "unsupported signal file type '.mat'") { _ = try Signal(contentsOf: "x.mat") }
        expectSignalError(file: "missing.npy", containing: "no such file") {
            _ = try Signal(npyContentsOf: dir.appending(path: "missing.npy").path, layout: .channelsFirst, sampleRate: 1)
        }
    }

    @Test func multichannelWavKeepsEveryChannel() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let frames = 400, channels = 3
        var interleaved = [Float](), expected = [Float](repeating: 0, count: frames * channels)
        for f in 0..<frames {
            for c in 0..<channels {
                let v = Float(sin(Double(f) * 0.05 * Double(c + 1))) * 0.8 - Float(c) * 0.05
                interleaved.append(v)
                expected[c * frames + f] = v
            }
        }
        let path = dir.appending(path: "imu.wav").path
        try AudioFile(samples: interleaved, channels: channels, sampleRate: 8000).write(to: path, format: .wavFloat)
        let s = try Signal(audioContentsOf: path)
        #expect(s.channelCount == 3 && s.sampleCount == frames && s.sampleRate == 8000)
        #expect(s.samples == expected)
        #expect(try Signal(contentsOf: path) == s)
        let bad = writeScratch("bad.wav", "RIFF\u{0}\u{0}WAVE", in: dir)
        #expect(throws: SignalError.self) { _ = try Signal(audioContentsOf: bad) }
        do { _ = try Signal(audioContentsOf: bad) } catch { #expect(error.file == bad) }
    }

    // MARK: Processing

    @Test func resamplingIsTheAudioResamplerPerChannel() {
        let s = testSignal(channels: 3, samples: 500, rate: 100)
        let up = s.resampled(to: 250)
        let r = Resampler(from: 100, to: 250)
        #expect(up.sampleRate == 250 && up.channelCount == 3 && up.channelNames == s.channelNames)
        for c in 0..<3 { #expect(Array(up.channel(c)) == r.resample(Array(s.channel(c)))) }
        // A slow sine survives 100 → 250 Hz: interior samples match the analytic signal.
        let sine = Signal(samples: (0..<400).map { Float(sin(2 * .pi * 3 * Double($0) / 100)) }, channelCount: 1, sampleRate: 100)
        let y = sine.resampled(to: 250)
        #expect(y.sampleCount == 1000)
        let expected = (100..<900).map { sin(2 * .pi * 3 * Double($0) / 250) }
        expectClose(Array(y.samples[100..<900]), expected, tolerance: 2e-3, "resampled sine")
        // Fractional rates: 12.5 Hz → 50 Hz runs the same filter as 12500 → 50000.
        let slow = Signal(samples: s.samples, channelCount: 3, sampleRate: 12.5)
        let fast = slow.resampled(to: 50)
        #expect(fast.sampleCount == 2000 && Array(fast.channel(1)) == Resampler(from: 12_500, to: 50_000).resample(Array(slow.channel(1))))
        #expect(s.resampled(to: 100) == s)
    }

    @Test func zScoreAndMinMaxAgainstFloat64() {
        var s = testSignal(channels: 3, samples: 257)
        // a constant channel and a NaN sample
        var values = s.samples
        for i in 257..<514 { values[i] = 4.25 }
        values[600] = .nan
        s = Signal(samples: values, channelCount: 3, sampleRate: s.sampleRate)
        let stats = s.channelStatistics()
        for c in 0..<3 {
            let xs = s.channel(c).filter { !$0.isNaN }.map(Double.init)
            let mean = xs.reduce(0, +) / Double(xs.count)
            let std = (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)).squareRoot()
            #expect(abs(stats.mean[c] - mean) < 1e-12 && abs(stats.std[c] - std) < 1e-12, "channel \(c)")
            #expect(stats.minimum[c] == xs.min()! && stats.maximum[c] == xs.max()!)
        }
        let z = s.zScoreNormalized()
        var expected: [Double] = []
        for c in 0..<3 {
            let scale = stats.std[c] < 1e-8 ? 1 : stats.std[c]
            expected += s.channel(c).map { (Double($0) - stats.mean[c]) / scale }
        }
        #expect(z.samples[600].isNaN)
        expectClose(z.samples.enumerated().map { $0.offset == 600 ? 0 : $0.element },
                    expected.enumerated().map { $0.offset == 600 ? 0 : $0.element }, tolerance: 1e-6, "z-score")
        #expect(z.channel(1).allSatisfy { $0 == 0 })
        // Statistics from another signal (training data) are applied as given.
        let other = testSignal(channels: 3, samples: 100, seed: 9)
        let given = other.channelStatistics()
        let zGiven = s.zScoreNormalized(using: given)
        let expectedGiven = (0..<3).flatMap { c in s.channel(c).map { (Double($0) - given.mean[c]) / given.std[c] } }
        expectClose(Array(zGiven.samples[0..<257]), Array(expectedGiven[0..<257]), tolerance: 1e-6, "z-score with given stats")
        let mm = s.minMaxNormalized(to: -1...1)
        let expectedMM = (0..<3).flatMap { c -> [Double] in
            let span = stats.maximum[c] - stats.minimum[c]
            return s.channel(c).map { span > 0 ? (Double($0) - stats.minimum[c]) / span * 2 - 1 : -1 }
        }
        expectClose(Array(mm.samples[0..<514]), Array(expectedMM[0..<514]), tolerance: 1e-6, "min-max")
        #expect(mm.channel(0).min() == -1 && mm.channel(0).max() == 1)
    }

    @Test(arguments: [WindowTail.drop, .zeroPad, .edgePad])
    func windowsHoldTheRightSamples(tail: WindowTail) {
        let s = testSignal(channels: 2, samples: 11)
        let size = 4, hop = 3
        let w = s.windows(size: size, hop: hop, tail: tail)
        let count = tail == .drop ? 3 : 4                     // starts 0, 3, 6 (and 9 when padded)
        #expect(w.shape == [count, 2, size])
        #expect(s.windowCount(size: size, hop: hop, tail: tail) == count)
        let v = w.toArray()
        for k in 0..<count {
            for c in 0..<2 {
                for j in 0..<size {
                    let i = k * hop + j
                    let expected: Float = i < 11 ? s.samples[c * 11 + i] : (tail == .edgePad ? s.samples[c * 11 + 10] : 0)
                    #expect(v[(k * 2 + c) * size + j] == expected, "window \(k) channel \(c) position \(j)")
                }
            }
        }
    }

    @Test func windowEdgeCases() {
        let s = testSignal(channels: 2, samples: 5)
        #expect(s.windows(size: 8, hop: 2, tail: .drop).shape == [0, 2, 8])
        let padded = s.windows(size: 8, hop: 2, tail: .zeroPad)
        #expect(padded.shape == [1, 2, 8])
        #expect(Array(padded.toArray()[0..<8]) == Array(s.samples[0..<5]) + [0, 0, 0])
        // hop > size skips samples; exact fit gives no padding window
        let skip = testSignal(channels: 1, samples: 20).windows(size: 4, hop: 8, tail: .zeroPad)
        #expect(skip.shape == [3, 1, 4])
        #expect(testSignal(channels: 1, samples: 12).windows(size: 4, hop: 4, tail: .zeroPad).shape == [3, 1, 4])
    }

    @Test(arguments: [(64, 16), (32, 8), (50, 7)])
    func stftMagnitudeMatchesFloat64DFT(params: (Int, Int)) {
        let (nFft, hop) = params
        let s = testSignal(channels: 3, samples: 300)
        let map = s.stftMagnitude(nFft: nFft, hop: hop)
        let bins = nFft / 2 + 1, frames = 1 + 300 / hop
        #expect(map.shape == [3, bins, frames])
        var expected: [Double] = []
        for c in 0..<3 { expected += referenceSTFTMagnitude(s.channel(c).map(Double.init), nFft: nFft, hop: hop).flatMap { $0 } }
        let peak = expected.max()!
        expectClose(map.toArray(), expected, tolerance: 2e-5 * peak, "|STFT| n_fft \(nFft) hop \(hop)")
        // The other scales are functions of the same magnitudes.
        let power = s.stftMagnitude(nFft: nFft, hop: hop, scale: .power).toArray()
        expectClose(power, expected.map { $0 * $0 }, tolerance: 4e-5 * peak * peak, "power")
        let log = s.stftMagnitude(nFft: nFft, hop: hop, scale: .log(floor: 1e-3)).toArray()
        expectClose(log, expected.map { Foundation.log(max($0, 1e-3)) }, tolerance: 2e-3, "log")
        let db = s.stftMagnitude(nFft: nFft, hop: hop, scale: .decibels(floor: 1e-3)).toArray()
        expectClose(db, expected.map { 20 * log10(max($0, 1e-3)) }, tolerance: 2e-2, "dB")
    }

    @Test func stftPeaksAtTheToneFrequency() {
        // 20 Hz tone at 200 Hz sampling, n_fft 40 → bin spacing 5 Hz, the peak is bin 4 in every frame.
        let tone = Signal(samples: (0..<400).map { Float(sin(2 * .pi * 20 * Double($0) / 200)) }, channelCount: 1, sampleRate: 200)
        let map = tone.stftMagnitude(nFft: 40, hop: 10)
        #expect(tone.stftFrequencies(nFft: 40)[4] == 20)
        let v = map.toArray(), frames = map.shape[2]
        for t in 2..<(frames - 2) {
            let column = (0..<21).map { v[$0 * frames + t] }
            #expect(column.firstIndex(of: column.max()!) == 4, "frame \(t)")
        }
        #expect(Signal.minimumSTFTLength(nFft: 40) == 21)
    }
}
