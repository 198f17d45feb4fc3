// Spoken audio for the demo corpus, synthesised offline with espeak-ng (Debian package
// `espeak-ng`, installed by scripts/bootstrap), resampled to 16 kHz mono.
import Foundation

/// An espeak-ng voice setting.
public struct SpeechVoice: Codable, Sendable, Hashable {
    /// espeak-ng voice name with an optional variant, e.g. `en-us`, `en-gb+f3`.
    public var name: String
    /// Words per minute (espeak-ng's `-s`, 80…450).
    public var wordsPerMinute: Int
    /// Pitch 0…99 (espeak-ng's `-p`).
    public var pitch: Int

    public init(name: String, wordsPerMinute: Int = 160, pitch: Int = 50) {
        self.name = name; self.wordsPerMinute = wordsPerMinute; self.pitch = pitch
    }

    /// A spread of accents, sexes, speeds and pitches.
    public static let demoVoices: [SpeechVoice] = [
        SpeechVoice(name: "en-us", wordsPerMinute: 165, pitch: 45),
        SpeechVoice(name: "en-gb+f3", wordsPerMinute: 150, pitch: 60),
        SpeechVoice(name: "en-us+m3", wordsPerMinute: 185, pitch: 35),
        SpeechVoice(name: "en-gb-scotland+f2", wordsPerMinute: 140, pitch: 55),
        SpeechVoice(name: "en+m1", wordsPerMinute: 175, pitch: 40),
    ]
}

/// Why speech could not be synthesised.
public struct SpeechError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

public enum SpeechSynthesizer {
    /// The espeak-ng executable, from `PATH`.
    public static func executable() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/espeak-ng"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Speaks `text` and writes it as 16 kHz mono 16-bit WAV to `path`.
    public static func speak(_ text: String, voice: SpeechVoice, to path: String) throws {
        guard let espeak = executable() else {
            throw SpeechError(description: "espeak-ng is not installed (scripts/bootstrap installs it)")
        }
        let raw = path + ".espeak.wav"
        defer { try? FileManager.default.removeItem(atPath: raw) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: espeak)
        process.arguments = ["-v", voice.name, "-s", String(voice.wordsPerMinute), "-p", String(voice.pitch), "-w", raw, "--", text]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { throw SpeechError(description: "cannot run \(espeak): \(error.localizedDescription)") }
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw SpeechError(description: "espeak-ng failed for voice \(voice.name) (\(process.terminationStatus)): \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        do {
            let audio = try AudioFile(contentsOf: raw)
            let samples = Resampler(from: audio.sampleRate, to: 16_000).resample(audio.monoSamples())
            try AudioFile(samples: samples, channels: 1, sampleRate: 16_000).write(to: path, format: .wav16)
        } catch {
            throw SpeechError(description: "\(path): \(error)")
        }
    }
}
