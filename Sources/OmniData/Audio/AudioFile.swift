import CSndFile
import Foundation
import OmniTensor

/// Decoded audio: float32 samples in [-1, 1], interleaved frame by frame, with the channel count
/// and sample rate. WAV (PCM and float), AIFF, FLAC and Ogg Vorbis decode through libsndfile;
/// everything else — MP3, AAC/M4A, Opus, WMA, the audio track of a video, … — through FFmpeg.
/// The decoder is chosen by the file's first bytes, not its extension (see `MediaSniffer`), and
/// both arrive in the same form: the file's own sample rate and channels, no resampling.
///
/// ```swift
/// let audio = try AudioFile(contentsOf: "speech.mp3")
/// let mono = audio.monoSamples()              // [frames]
/// let x = audio.tensor()                       // [channels, frames]
/// ```
public struct AudioFile: Sendable {
    /// Interleaved samples: `samples[frame * channels + channel]`.
    public let samples: [Float]
    public let channels: Int
    public let sampleRate: Int

    /// Frames (samples per channel).
    public var frames: Int { channels == 0 ? 0 : samples.count / channels }

    /// The most samples (frames × channels) a file may decode to, checked from the header before
    /// allocating, so a corrupt or hostile header cannot ask for terabytes.
    public static let maxSamples = 1 << 30
    /// The most channels accepted (libsndfile itself allows up to 1024).
    public static let maxChannels = 1024

    public init(samples: [Float], channels: Int, sampleRate: Int) {
        precondition(channels > 0 && samples.count % channels == 0,
                     "AudioFile: \(samples.count) samples do not split into \(channels) channels")
        self.samples = samples
        self.channels = channels
        self.sampleRate = sampleRate
    }

    /// Decodes the file at `path` (libsndfile for WAV/AIFF/FLAC/Ogg Vorbis, FFmpeg for the rest,
    /// chosen by content); throws `AudioError` naming the file for a missing, empty, truncated,
    /// corrupt, unrecognised or implausibly sized file.
    public init(contentsOf path: String) throws(AudioError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw AudioError(file: path, "no such file")
        }
        switch MediaSniffer.audioDecoder(forFile: path) {
        case .sndfile:
            try self.init(sndfileAt: path)
        case .sndfileOrFFmpeg:
            // Ogg also carries Opus, Speex or Theora that libsndfile may not read: FFmpeg gets a turn.
            do { try self.init(sndfileAt: path) } catch let sndfileError {
                guard let decoded = try? AudioFile(ffmpegAt: path) else { throw sndfileError }
                self = decoded
            }
        case .ffmpeg:
            try self.init(ffmpegAt: path)
        }
    }

    /// Decodes through libsndfile.
    init(sndfileAt path: String) throws(AudioError) {
        var info = SF_INFO()
        guard let handle = sf_open(path, Int32(SFM_READ), &info) else {
            let reason = String(cString: sf_strerror(nil))
            throw AudioError(file: path, "not a readable audio file (\(reason))")
        }
        defer { sf_close(handle) }
        let channels = Int(info.channels), frames = Int(info.frames), rate = Int(info.samplerate)
        guard channels > 0, channels <= Self.maxChannels else {
            throw AudioError(file: path, "implausible channel count \(channels)")
        }
        guard rate > 0, rate <= 10_000_000 else { throw AudioError(file: path, "implausible sample rate \(rate)") }
        guard frames > 0 else { throw AudioError(file: path, "no audio frames (empty or truncated)") }
        guard frames <= Self.maxSamples / channels else {
            throw AudioError(file: path, "\(frames) frames × \(channels) channels exceeds the \(Self.maxSamples)-sample limit")
        }
        var buffer = [Float](repeating: 0, count: frames * channels)
        let read = buffer.withUnsafeMutableBufferPointer { sf_readf_float(handle, $0.baseAddress, sf_count_t(frames)) }
        guard read > 0 else { throw AudioError(file: path, "no audio data could be read (truncated)") }
        if Int(read) < frames {
            // The header promised more than the file holds: keep what decoded only when the
            // decoder reports no error, otherwise the file is damaged.
            let code = sf_error(handle)
            if code != 0 {
                throw AudioError(file: path, "truncated: read \(read) of \(frames) frames (\(String(cString: sf_strerror(handle))))")
            }
            buffer.removeLast((frames - Int(read)) * channels)
        }
        self.init(samples: buffer, channels: channels, sampleRate: rate)
    }

    /// The channel average per frame, the usual mono mix-down.
    public func monoSamples() -> [Float] {
        if channels == 1 { return samples }
        let n = frames, c = channels
        var out = [Float](repeating: 0, count: n)
        samples.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                let scale = 1 / Float(c)
                for f in 0..<n {
                    var acc: Float = 0
                    for ch in 0..<c { acc += s[f * c + ch] }
                    o[f] = acc * scale
                }
            }
        }
        return out
    }

    /// The samples as a `[channels, frames]` tensor.
    public func tensor() -> Tensor {
        Tensor(samples, shape: [frames, channels]).transposed(0, 1).contiguous()
    }
}
