// `omni audio mel`: Whisper's log-mel spectrogram of an audio file, written as .npy.
import ArgumentParser
import Foundation
import OmniData
import OmniModels
import OmniNN
import OmniTensor

struct AudioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audio",
        abstract: "Audio features.",
        subcommands: [AudioMelCommand.self])
}

struct AudioMelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mel",
        abstract: "Writes Whisper's log-mel spectrogram [n_mels, frames] of an audio file as float32 .npy.",
        discussion: """
            The file (WAV, FLAC, OGG through libsndfile; MP3, AAC, M4A, Opus, a video's audio track, … \
            through FFmpeg, chosen by content) is mixed down to mono and resampled to 16 kHz; then n_fft 400, \
            hop 160, Whisper's mel filters (mel_filters.npz from openai-whisper, fetched by \
            scripts/fetch-assets), log10, clamp to max − 8, (x + 4) / 4 — no padding to 30 s. The last \
            line of stdout is a JSON object with the output's shape.
            """)

    @Argument(help: "The audio file.") var file: String
    @Option(help: "Mel bands: 80 or 128.") var nMels = 80
    @Option(help: "Output .npy file.") var out: String
    @Option(help: "Whisper's mel_filters.npz (default: the fetched one).") var filters: String?
    @OptionGroup var global: GlobalOptions

    struct Result: Encodable { let file: String; let out: String; let shape: [Int] }

    func validate() throws {
        guard nMels == 80 || nMels == 128 else { throw ValidationError("--n-mels must be 80 or 128, got \(nMels)") }
    }

    func run() throws {
        _ = try global.makeLogger("omni.audio.mel")
        let filterPath = filters ?? Assets.file("whisper/mel_filters.npz").path
        guard FileManager.default.fileExists(atPath: file) else { throw CLIError("\(file): no such file") }
        guard FileManager.default.fileExists(atPath: filterPath) else {
            throw CLIError("--filters \(filterPath): no such file (scripts/fetch-assets fetches Whisper's mel filters)")
        }
        let samples: [Float]
        do { samples = try AudioFile(contentsOf: file).whisperSamples() } catch { throw CLIError(error.description) }
        guard samples.count > 200 else { throw CLIError("\(file): \(samples.count) samples at 16 kHz are too few for one frame") }
        let bank: Tensor
        do {
            guard let t = try NPZ.read(contentsOf: filterPath)["mel_\(nMels)"] else {
                throw CLIError("--filters \(filterPath): no array mel_\(nMels)")
            }
            bank = t
        } catch let error as CLIError { throw error } catch { throw CLIError("\(error)") }
        guard bank.dtype == .float32, bank.shape == [nMels, 201] else {
            throw CLIError("--filters \(filterPath): mel_\(nMels) is \(bank.dtype) \(bank.shape), expected float32 [\(nMels), 201]")
        }
        let mel = WhisperMel.logMelSpectrogram(samples: samples, nMels: nMels, filters: bank)
        do { try NPY.write(mel, to: out) } catch { throw CLIError("--out \(out): \(error)") }
        print("\(file): \(samples.count) samples at 16 kHz → log-mel \(mel.shape) in \(out)")
        try printJSONLine(Result(file: file, out: out, shape: mel.shape))
    }
}
