// libFuzzer target: audio decoding (WAV/FLAC/OGG through libsndfile). Any input must give audio
// or an AudioError.
import FuzzSupport
import OmniData

@main
enum FuzzAudio {
    static func main() {
        FuzzInput.run { data, size in
            let path = FuzzInput.file(data, size, extension: "audio")
            if let audio = try? AudioFile(contentsOf: path) { _ = audio.monoSamples() }
            return 0
        }
    }
}
