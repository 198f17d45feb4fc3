// MP3, AAC (ADTS) and M4A through FFmpeg: decoded samples against PyAV's decode of the same files
// (scripts/fixtures/make_media_fixtures.py) and against the tones they were encoded from, routing by
// content, the audio track of videos, and bad input.
import Foundation
import Testing
@testable import OmniData

@Suite struct AudioFFmpegTests {
    /// Same decoder family (libavcodec's mp3float / aac) in FFmpeg 5.1 here and FFmpeg 8 in PyAV:
    /// the float output agrees to rounding.
    static let referenceTolerance = 1e-5

    @Test(arguments: [("tone.mp3", 1), ("tone.aac", 1), ("tone.m4a", 2)])
    func decodesLikePyAV(name: String, channels: Int) throws {
        let audio = try AudioFile(contentsOf: mediaFixture(name))
        let ref = try #require(loadNpy(mediaFixture(name.replacingOccurrences(of: ".", with: "_") + "_ref.npy")))
        #expect(audio.sampleRate == 16_000 && audio.channels == channels)
        #expect([audio.frames, audio.channels] == ref.shape, "\(name): \(audio.frames)×\(audio.channels) vs PyAV \(ref.shape)")
        let (worst, at) = largestDifference(audio.samples, ref.floats)
        #expect(worst <= Self.referenceTolerance, "\(name): largest difference \(worst) at sample \(at)")
    }

    @Test(arguments: ["tone.mp3", "tone.aac"])
    func monoTonesKeepTheirFrequencies(name: String) throws {
        // encoded from 0.3·sin(2π·440t) + 0.3·sin(2π·1000t): lossy at 32 kbit/s, so loose bounds
        let audio = try AudioFile(contentsOf: mediaFixture(name))
        let middle = Array(audio.monoSamples()[2000..<6000])
        let fit = fitSinusoids(middle, rate: 16_000, frequencies: [440, 1000])
        for (f, a) in zip([440, 1000], fit.amplitudes) { #expect(Swift.abs(a - 0.3) < 0.03, "\(name): \(f) Hz amplitude \(a)") }
        #expect(fit.residualRMS < 0.02, "\(name): residual RMS \(fit.residualRMS)")
    }

    @Test func stereoM4AKeepsChannelsAndMixesDown() throws {
        // left 0.5·sin(2π·440t), right 0.5·sin(2π·1000t)
        let audio = try AudioFile(contentsOf: mediaFixture("tone.m4a"))
        let t = audio.tensor().toArray(), n = audio.frames
        let left = Array(t[2000..<6000]), right = Array(t[(n + 2000)..<(n + 6000)])
        let l = fitSinusoids(left, rate: 16_000, frequencies: [440, 1000])
        let r = fitSinusoids(right, rate: 16_000, frequencies: [440, 1000])
        #expect(Swift.abs(l.amplitudes[0] - 0.5) < 0.05 && l.amplitudes[1] < 0.02, "left: \(l.amplitudes)")
        #expect(Swift.abs(r.amplitudes[1] - 0.5) < 0.05 && r.amplitudes[0] < 0.02, "right: \(r.amplitudes)")
        let mono = audio.monoSamples()
        for i in stride(from: 0, to: n, by: 97) {
            let expected = (Double(audio.samples[2 * i]) + Double(audio.samples[2 * i + 1])) / 2
            #expect(Swift.abs(Double(mono[i]) - expected) < 1e-7)
        }
        // and the Whisper path resamples it like any other file
        #expect(audio.whisperSamples().count == n)
    }

    @Test func routesByContentNotExtension() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omni-ffaudio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // an MP3 named .wav still decodes (through FFmpeg), identical to the .mp3
        let mp3 = try Data(contentsOf: URL(fileURLWithPath: mediaFixture("tone.mp3")))
        let disguised = dir.appendingPathComponent("tone.wav").path
        try mp3.write(to: URL(fileURLWithPath: disguised))
        #expect(MediaSniffer.audioDecoder(forFile: disguised) == .ffmpeg)
        #expect(try AudioFile(contentsOf: disguised).samples == AudioFile(contentsOf: mediaFixture("tone.mp3")).samples)
        // a WAV named .mp3 goes to libsndfile and keeps its exact samples
        let ints = (0..<400).map { Int16($0 * 50 - 10_000) }
        let wavPath = dir.appendingPathComponent("pcm.mp3").path
        try wavBytes(int16: ints, channels: 1, rate: 8000).write(to: URL(fileURLWithPath: wavPath))
        #expect(MediaSniffer.audioDecoder(forFile: wavPath) == .sndfile)
        #expect(try AudioFile(contentsOf: wavPath).samples == ints.map { Float(Double($0) / 32768) })
        // FFmpeg reads WAV too: the same samples either way
        #expect(try AudioFile(ffmpegAt: wavPath).samples == ints.map { Float(Double($0) / 32768) })
    }

    @Test func decodesFromMemoryLikeFromFile() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: mediaFixture("tone.m4a"))))
        let fromMemory = try AudioFile(encoded: bytes, name: "tone.m4a")
        #expect(fromMemory.samples == (try AudioFile(contentsOf: mediaFixture("tone.m4a"))).samples)
    }

    @Test func infoReadsHeaders() throws {
        let mp3 = try AudioFileInfo(contentsOf: mediaFixture("tone.mp3"))
        #expect(mp3.format == "mp3" && mp3.codec == "mp3" && mp3.decoder == "ffmpeg")
        #expect(mp3.sampleRate == 16_000 && mp3.channels == 1)
        #expect(Swift.abs((mp3.duration ?? 0) - 0.5) < 0.08, "duration \(mp3.duration ?? -1)")
        let m4a = try AudioFileInfo(contentsOf: mediaFixture("tone.m4a"))
        #expect(m4a.codec == "aac" && m4a.channels == 2 && m4a.sampleRate == 16_000)
        let path = try temporaryFile("info.wav", wavBytes(int16: [Int16](repeating: 0, count: 8000), channels: 2, rate: 8000))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let wav = try AudioFileInfo(contentsOf: path)
        #expect(wav.format == "wav" && wav.codec.contains("16") && wav.decoder == "libsndfile", "\(wav)")
        #expect(wav.channels == 2 && wav.sampleRate == 8000 && wav.frames == 4000 && wav.duration == 0.5, "\(wav)")
    }

    @Test func videoAudioTrackMatchesPyAV() throws {
        // clip.webm: Opus, 48 kHz mono, decoded by AudioFile(contentsOf:) like any audio file
        let clips = try mediaJSON("clips.json")
        let audioRef = try #require((clips["clip.webm"] as? [String: Any])?["audio"] as? [String: Any])
        let audio = try AudioFile(contentsOf: mediaFixture("clip.webm"))
        #expect(audio.sampleRate == 48_000 && audio.channels == 1)
        #expect(audio.frames == audioRef["frames"] as? Int)
        let ref = try #require(loadNpy(mediaFixture("clip_webm_audio_ref.npy")))
        let (worst, at) = largestDifference(Array(audio.samples.prefix(ref.floats.count)), ref.floats)
        #expect(worst <= Self.referenceTolerance, "largest difference \(worst) at \(at)")
        let rms = (audio.samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(audio.samples.count)).squareRoot()
        #expect(Swift.abs(rms - (audioRef["rms"] as? Double ?? 0)) < 1e-5)
    }

    @Test func badInputThrowsNamingTheFile() throws {
        let m4a = try Data(contentsOf: URL(fileURLWithPath: mediaFixture("tone.m4a")))
        var corrupt = m4a
        for i in stride(from: 64, to: corrupt.count, by: 7) { corrupt[i] ^= 0x5A }
        var id3Only = Data("ID3".utf8) + [4, 0, 0, 0, 0, 0, 0]
        id3Only.append(Data(repeating: 0, count: 32))
        let cases: [(String, Data)] = [
            ("empty.mp3", Data()),
            ("text.mp3", Data("this is not audio at all, just some text".utf8)),
            ("random.m4a", Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })),
            ("no-moov.m4a", m4a.prefix(m4a.count / 2)),   // the muxer writes moov last: cut, it is gone
            ("id3-only.mp3", id3Only),
            ("corrupt.m4a", corrupt),
        ]
        for (name, data) in cases {
            let path = try temporaryFile(name, data)
            defer { try? FileManager.default.removeItem(atPath: path) }
            expectQuick(name) {
                do {
                    let audio = try AudioFile(contentsOf: path)
                    // corrupt payloads may still decode to something; then it must be well-formed
                    #expect(name == "corrupt.m4a" && audio.samples.allSatisfy(\.isFinite), "\(name) decoded to \(audio.frames) frames")
                } catch let error as AudioError {
                    #expect(error.file == path && !error.message.isEmpty, "\(name): \(error)")
                } catch {
                    Issue.record("\(name): untyped error \(error)")
                }
            }
        }
    }

    @Test func truncatedMP3KeepsWhatDecodedOrThrows() throws {
        let mp3 = try Data(contentsOf: URL(fileURLWithPath: mediaFixture("tone.mp3")))
        let full = try AudioFile(contentsOf: mediaFixture("tone.mp3"))
        for cut in [mp3.count / 2, mp3.count - 7, 200] {
            let path = try temporaryFile("cut\(cut).mp3", mp3.prefix(cut))
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                let audio = try AudioFile(contentsOf: path)
                #expect(audio.frames < full.frames + 1152 && audio.channels == 1 && audio.sampleRate == 16_000)
                #expect(audio.samples.allSatisfy { $0.isFinite && Swift.abs($0) <= 2 })
            } catch {
                #expect(error.file == path, "\(error)")
            }
        }
    }

    @Test func limitsBoundTheDecode() throws {
        var limits = MediaLimits.default
        limits.maxSamples = 1000
        #expect {
            try AudioFile(ffmpegAt: mediaFixture("tone.mp3"), limits: limits)
        } throws: { error in
            let e = error as? AudioError
            return e?.file == mediaFixture("tone.mp3") && e?.message.contains("1000 samples") == true
        }
        // a video without audio is no audio file
        #expect {
            try AudioFile(contentsOf: mediaFixture("clip.avi"))
        } throws: { error in (error as? AudioError)?.message.contains("no audio stream") == true }
        #expect(throws: AudioError.self) { try AudioFile(encoded: [], name: "empty.mp3") }
        #expect(throws: AudioError.self) { try AudioFile(contentsOf: FileManager.default.temporaryDirectory.path) }
    }
}
