import CSndFile
import Foundation

/// Container and sample encoding for `AudioFile.write(to:format:)`.
public enum AudioFormat: Sendable, CaseIterable {
    /// WAV, 16-bit PCM.
    case wav16
    /// WAV, 32-bit float.
    case wavFloat
    /// FLAC, 16-bit (lossless).
    case flac
    /// Ogg Vorbis (lossy).
    case oggVorbis

    var sndfileFormat: Int32 {
        switch self {
        case .wav16: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
        case .wavFloat: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT)
        case .flac: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
        case .oggVorbis: Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS)
        }
    }
}

extension AudioFile {
    /// Encodes the samples to `path`; throws `AudioError` naming the file when libsndfile refuses
    /// the format, rate or channel count, or the write comes up short.
    public func write(to path: String, format: AudioFormat) throws(AudioError) {
        var info = SF_INFO()
        info.samplerate = Int32(clamping: sampleRate)
        info.channels = Int32(clamping: channels)
        info.format = format.sndfileFormat
        guard sf_format_check(&info) != 0 else {
            throw AudioError(file: path, "libsndfile cannot write \(format) at \(sampleRate) Hz with \(channels) channels")
        }
        guard let handle = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw AudioError(file: path, "cannot open for writing (\(String(cString: sf_strerror(nil))))")
        }
        // Float input to integer formats is scaled by 32767 and clipped instead of wrapping.
        sf_command(handle, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        let written = samples.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, sf_count_t(frames)) }
        let closeCode = sf_close(handle)
        guard Int(written) == frames, closeCode == 0 else {
            throw AudioError(file: path, "short write: \(written) of \(frames) frames")
        }
    }
}
