// Audio decode (libsndfile), bad input, and Whisper's log-mel spectrogram against fixtures made
// with openai-whisper's log_mel_spectrogram (../shared/fixtures/whisper_mel).
import Foundation
import Testing
import OmniNN
import OmniTensor
@testable import OmniData

/// A RIFF/WAVE file: 16-bit PCM (format 1) or 32-bit float (format 3), interleaved samples.
func wavBytes(int16 samples: [Int16]? = nil, float32 floats: [Float]? = nil, channels: Int, rate: Int) -> Data {
    var body = Data()
    let format: UInt16, bits: UInt16
    if let samples {
        format = 1; bits = 16
        for s in samples { withUnsafeBytes(of: s.littleEndian) { body.append(contentsOf: $0) } }
    } else {
        format = 3; bits = 32
        for f in floats ?? [] { withUnsafeBytes(of: f.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
    }
    var d = Data()
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
    func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
    d.append(contentsOf: Array("RIFF".utf8)); u32(UInt32(36 + body.count)); d.append(contentsOf: Array("WAVE".utf8))
    d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(format); u16(UInt16(channels)); u32(UInt32(rate))
    let blockAlign = UInt16(channels) * bits / 8
    u32(UInt32(rate) * UInt32(blockAlign)); u16(blockAlign); u16(bits)
    d.append(contentsOf: Array("data".utf8)); u32(UInt32(body.count)); d.append(body)
    return d
}

/// The largest |a − b| (infinite when the lengths differ).
func audioMaxDiff(_ a: [Float], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { Swift.abs(Double($0) - $1) }.max() ?? 0
}

func temporaryFile(_ name: String, _ data: Data) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("omni-audio-\(UUID().uuidString)-\(name)").path
    try data.write(to: URL(fileURLWithPath: path))
    return path
}

@Suite struct AudioDecodeTests {
    @Test(arguments: [1, 2])
    func pcm16RoundTrips(channels: Int) throws {
        var g = SystemRandomNumberGenerator()
        let frames = 257
        let ints = (0..<(frames * channels)).map { _ in Int16.random(in: .min ... .max, using: &g) }
        let path = try temporaryFile("pcm.wav", wavBytes(int16: ints, channels: channels, rate: 22_050))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let audio = try AudioFile(contentsOf: path)
        #expect(audio.channels == channels && audio.sampleRate == 22_050 && audio.frames == frames)
        let expected = ints.map { Float(Double($0) / 32768) }
        #expect(audio.samples == expected)
        // [channels, frames] layout and the channel-average mix-down.
        let t = audio.tensor().toArray(), mono = audio.monoSamples()
        for f in [0, 100, frames - 1] {
            var sum = 0.0
            for c in 0..<channels {
                #expect(t[c * frames + f] == expected[f * channels + c])
                sum += Double(expected[f * channels + c])
            }
            #expect(Swift.abs(Double(mono[f]) - sum / Double(channels)) < 1e-7)
        }
    }

    @Test(arguments: [1, 2])
    func float32RoundTrips(channels: Int) throws {
        let frames = 300
        let floats = (0..<(frames * channels)).map { Float(Foundation.sin(Double($0) * 0.37)) * 0.9 }
        let path = try temporaryFile("float.wav", wavBytes(float32: floats, channels: channels, rate: 16_000))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let audio = try AudioFile(contentsOf: path)
        #expect(audio.channels == channels && audio.sampleRate == 16_000)
        #expect(audio.samples == floats)
    }

    @Test func badInputsThrowNamingTheFile() throws {
        let good = wavBytes(int16: [Int16](repeating: 1000, count: 64), channels: 1, rate: 8000)
        var absurd = good
        absurd.replaceSubrange(22..<24, with: [0xFF, 0xFF])     // 65535 channels
        let cases: [(String, Data)] = [
            ("empty.wav", Data()),
            ("header-only.wav", good.prefix(44)),
            ("cut-header.wav", good.prefix(20)),
            ("text.wav", Data("this is not audio at all, just some text".utf8)),
            ("absurd-channels.wav", absurd),
        ]
        for (name, data) in cases {
            let path = try temporaryFile(name, data)
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                let audio = try AudioFile(contentsOf: path)
                Issue.record("\(name) decoded to \(audio.frames) frames instead of failing")
            } catch {
                #expect(error.file == path, "\(name): \(error)")
                #expect(!error.message.isEmpty)
            }
        }
        #expect(throws: AudioError.self) { try AudioFile(contentsOf: "/nonexistent/omni.wav") }
    }

    @Test func truncatedDataKeepsWhatDecodedOrThrows() throws {
        let ints = (0..<200).map { Int16($0 * 100) }
        let data = wavBytes(int16: ints, channels: 1, rate: 8000)
        let path = try temporaryFile("truncated.wav", data.prefix(44 + 101))   // half a sample at the end
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let audio = try AudioFile(contentsOf: path)
            #expect(audio.frames == 50)
            #expect(audio.samples == ints.prefix(50).map { Float(Double($0) / 32768) })
        } catch {
            #expect(error.file == path)
        }
    }
}

@Suite struct WhisperMelTests {
    static let stem = "audio/sense_and_sensibility_01_austen_64kb-0870"

    @Test(arguments: [80, 128])
    func matchesWhisperFixtures(nMels: Int) throws {
        guard let filtersPath = assetPath("whisper/mel_filters.npz") else { return }
        let filters = try #require(try NPZ.read(contentsOf: filtersPath)["mel_\(nMels)"])
        let samples = try NPY.read(contentsOf: fixturePath("\(Self.stem)_samples.npy")).toArray()
        let expected = try NPY.read(contentsOf: fixturePath("\(Self.stem)_mel\(nMels).npy"))
        let mel = WhisperMel.logMelSpectrogram(samples: samples, nMels: nMels, filters: filters)
        #expect(mel.shape == expected.shape)
        let a = mel.toArray(), b = expected.toArray()
        var worst = 0.0, at = 0
        for i in 0..<Swift.min(a.count, b.count) where Swift.abs(Double(a[i]) - Double(b[i])) > worst {
            worst = Swift.abs(Double(a[i]) - Double(b[i])); at = i
        }
        print("WhisperMel \(nMels): max abs diff \(worst) at \(at)")
        #expect(worst < 1e-3, "max abs diff \(worst) at flat index \(at)")
    }

    /// The STFT against a Float64 direct DFT of the reflect-padded, Hann-windowed frames.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func stftMatchesDirectDFT(seed: UInt64) {
        let n = 37, nFft = 16, hop = 5
        let x = Tensor.uniform([n], low: -1, high: 1, generator: Generator(seed: seed)).toArray()
        let (re, im) = STFT.transform(x, nFft: nFft, hop: hop)
        let frames = 1 + n / hop, bins = nFft / 2 + 1
        var eRe = [Double](), eIm = [Double]()
        for k in 0..<bins {
            for t in 0..<frames {
                var sr = 0.0, si = 0.0
                for j in 0..<nFft {
                    var i = t * hop + j - nFft / 2
                    if i < 0 { i = -i } else if i >= n { i = 2 * (n - 1) - i }
                    let w = 0.5 - 0.5 * Foundation.cos(2 * Double.pi * Double(j) / Double(nFft))
                    let ang = 2 * Double.pi * Double(k * j) / Double(nFft)
                    sr += w * Double(x[i]) * Foundation.cos(ang); si -= w * Double(x[i]) * Foundation.sin(ang)
                }
                eRe.append(sr); eIm.append(si)
            }
        }
        #expect(re.shape == [bins, frames] && im.shape == [bins, frames])
        #expect(audioMaxDiff(re.toArray(), eRe) < 1e-5, "stft real")
        #expect(audioMaxDiff(im.toArray(), eIm) < 1e-5, "stft imag")
    }
}

@Suite struct AudioEncodeTests {
    /// Samples on the 16-bit grid survive WAV and FLAC exactly; Ogg Vorbis comes back close.
    @Test(arguments: AudioFormat.allCases)
    func roundTrips(format: AudioFormat) throws {
        let channels = 2, frames = 4_000, rate = 16_000
        var samples = [Float]()
        for f in 0..<frames {
            let t = Double(f) / Double(rate)
            samples.append(Float((0.5 * sin(2 * Double.pi * 440 * t) * 32768).rounded() / 32768))
            samples.append(Float((0.25 * sin(2 * Double.pi * 660 * t) * 32768).rounded() / 32768))
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("omni-audio-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try AudioFile(samples: samples, channels: channels, sampleRate: rate).write(to: path, format: format)
        let back = try AudioFile(contentsOf: path)
        #expect(back.channels == channels && back.sampleRate == rate)
        if format == .oggVorbis {
            #expect(back.frames == frames)
            let worst = zip(back.samples, samples).dropFirst(2_000).dropLast(2_000)
                .map { Swift.abs(Double($0) - Double($1)) }.max() ?? .infinity
            #expect(worst < 0.05, "vorbis max diff \(worst)")
        } else {
            #expect(back.samples == samples)
        }
        // 16 kHz mono is passed through unchanged apart from the mix-down.
        #expect(back.whisperSamples() == back.monoSamples())
    }
}
