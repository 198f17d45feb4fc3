import COmniMedia
import CSndFile
import Foundation

/// What an audio file holds, read from its header without decoding the samples.
///
/// ```swift
/// let info = try AudioFileInfo(contentsOf: "speech.mp3")
/// print(info.format, info.sampleRate, info.channels, info.duration ?? -1)
/// ```
public struct AudioFileInfo: Sendable, Equatable, Codable {
    /// `wav`, `aiff`, `flac`, `ogg` (libsndfile) or FFmpeg's demuxer name (`mp3`, `aac`,
    /// `mov,mp4,m4a,3gp,3g2,mj2`, …).
    public let format: String
    /// The codec (`pcm_16`, `vorbis`, `mp3`, `aac`, …).
    public let codec: String
    public let sampleRate: Int
    public let channels: Int
    /// Frames per channel when the header states them exactly (libsndfile formats), else nil.
    public let frames: Int?
    /// Seconds, exact for libsndfile formats, the container's estimate for FFmpeg ones; nil when unknown.
    public let duration: Double?
    /// `libsndfile` or `ffmpeg`: the decoder `AudioFile(contentsOf:)` uses.
    public let decoder: String

    enum CodingKeys: String, CodingKey {
        case format, codec, channels, frames, duration, decoder
        case sampleRate = "sample_rate"
    }

    /// Reads the header of the file at `path`, choosing libsndfile or FFmpeg as
    /// `AudioFile(contentsOf:)` does; throws `AudioError` naming the file when it is not audio.
    public init(contentsOf path: String) throws(AudioError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw AudioError(file: path, "no such file")
        }
        switch MediaSniffer.audioDecoder(forFile: path) {
        case .sndfile:
            self = try Self.sndfile(path)
        case .sndfileOrFFmpeg:
            do { self = try Self.sndfile(path) } catch let sndfileError {
                guard let info = try? Self.ffmpeg(path) else { throw sndfileError }
                self = info
            }
        case .ffmpeg:
            self = try Self.ffmpeg(path)
        }
    }

    init(format: String, codec: String, sampleRate: Int, channels: Int, frames: Int?, duration: Double?, decoder: String) {
        self.format = format
        self.codec = codec
        self.sampleRate = sampleRate
        self.channels = channels
        self.frames = frames
        self.duration = duration
        self.decoder = decoder
    }

    private static func sndfile(_ path: String) throws(AudioError) -> AudioFileInfo {
        var info = SF_INFO()
        guard let handle = sf_open(path, Int32(SFM_READ), &info) else {
            throw AudioError(file: path, "not a readable audio file (\(String(cString: sf_strerror(nil))))")
        }
        defer { sf_close(handle) }
        let rate = Int(info.samplerate), channels = Int(info.channels), frames = Int(info.frames)
        guard channels > 0, channels <= AudioFile.maxChannels else { throw AudioError(file: path, "implausible channel count \(channels)") }
        guard rate > 0, rate <= 10_000_000 else { throw AudioError(file: path, "implausible sample rate \(rate)") }
        /// The major format's usual extension (`wav`, `flac`, `oga`, …) or the subtype's name.
        func name(_ format: Int32, asExtension: Bool) -> String {
            var f = SF_FORMAT_INFO()
            f.format = format
            guard sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &f, Int32(MemoryLayout<SF_FORMAT_INFO>.size)) == 0 else { return "unknown" }
            if asExtension, let ext = f.extension { return String(cString: ext) }
            return f.name.map { String(cString: $0) } ?? "unknown"
        }
        let major = info.format & Int32(SF_FORMAT_TYPEMASK), sub = info.format & Int32(SF_FORMAT_SUBMASK)
        return AudioFileInfo(format: name(major, asExtension: true), codec: name(sub, asExtension: false),
                             sampleRate: rate, channels: channels, frames: frames,
                             duration: Double(frames) / Double(rate), decoder: "libsndfile")
    }

    private static func ffmpeg(_ path: String) throws(AudioError) -> AudioFileInfo {
        let c: MediaInfo
        do { c = try MediaInfo(MediaHandle(path: path, limits: .default).info) } catch {
            throw AudioError(file: path, error.message)
        }
        guard c.hasAudio else { throw AudioError(file: path, "no audio stream (format \(c.format))") }
        guard c.channels > 0, c.channels <= AudioFile.maxChannels else { throw AudioError(file: path, "implausible channel count \(c.channels)") }
        guard c.sampleRate > 0, c.sampleRate <= 10_000_000 else { throw AudioError(file: path, "implausible sample rate \(c.sampleRate)") }
        return AudioFileInfo(format: c.format, codec: c.audioCodec, sampleRate: c.sampleRate, channels: c.channels,
                             frames: nil, duration: (c.audioDuration ?? c.duration).map { ($0 * 1e6).rounded() / 1e6 },
                             decoder: "ffmpeg")
    }
}
