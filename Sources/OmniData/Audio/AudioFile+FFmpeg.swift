import Foundation

extension AudioFile {
    /// Decodes the file at `path` through FFmpeg whatever its format (MP3, AAC/ADTS, M4A, Opus,
    /// WMA, WAV, the audio track of a video, …): float32 interleaved at the stream's own rate and
    /// channel count. `AudioFile(contentsOf:)` calls this for everything libsndfile does not read.
    public init(ffmpegAt path: String, limits: MediaLimits = .default) throws(AudioError) {
        do {
            self = try MediaHandle(path: path, limits: limits).decodeAudio()
        } catch {
            throw AudioError(file: path, error.message)
        }
    }

    /// Decodes encoded audio (or a video with an audio track) held in memory through FFmpeg;
    /// `name` is used in errors and its extension as a format hint.
    public init(encoded data: [UInt8], name: String = "<memory>", limits: MediaLimits = .default) throws(AudioError) {
        do {
            self = try MediaHandle(data: data, name: name, limits: limits).decodeAudio()
        } catch {
            throw AudioError(file: name, error.message)
        }
    }
}
