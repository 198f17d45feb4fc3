import Foundation

/// Recognises audio and video files by their first bytes (and, only as a hint, their extension),
/// to choose a decoder: libsndfile for WAV/AIFF/FLAC/Ogg, FFmpeg for the rest.
public enum MediaSniffer {
    /// Which decoder reads an audio file.
    public enum AudioDecoder: Sendable, Equatable {
        /// WAV (RIFF, RIFX, RF64), AIFF/AIFC, FLAC: libsndfile.
        case sndfile
        /// Ogg: libsndfile (Vorbis, FLAC, Opus), FFmpeg when libsndfile cannot open the stream.
        case sndfileOrFFmpeg
        /// Anything else (MP3, AAC, M4A/MP4, Matroska, …): FFmpeg.
        case ffmpeg
    }

    /// The decoder for a file starting with `header` (its first 16 bytes or more).
    public static func audioDecoder(forHeader header: [UInt8]) -> AudioDecoder {
        func at(_ offset: Int, _ text: String) -> Bool {
            let bytes = Array(text.utf8)
            return header.count >= offset + bytes.count && Array(header[offset..<(offset + bytes.count)]) == bytes
        }
        if (at(0, "RIFF") || at(0, "RIFX") || at(0, "RF64")) && at(8, "WAVE") { return .sndfile }
        if at(0, "FORM") && (at(8, "AIFF") || at(8, "AIFC")) { return .sndfile }
        if at(0, "fLaC") { return .sndfile }
        if at(0, "OggS") { return .sndfileOrFFmpeg }
        return .ffmpeg
    }

    /// The decoder for the file at `path` (FFmpeg when it cannot be read; FFmpeg then reports why).
    public static func audioDecoder(forFile path: String) -> AudioDecoder {
        audioDecoder(forHeader: header(ofFile: path))
    }

    /// Whether a file starting with `header` and named `path` looks like audio or video: a known
    /// container signature (RIFF WAVE/AVI, AIFF, FLAC, Ogg, ID3, MPEG audio or ADTS frame sync,
    /// ISO BMFF `ftyp`, EBML for Matroska/WebM, FLV, ASF, MPEG-PS/TS), or a media extension.
    public static func looksLikeMedia(header: [UInt8], path: String) -> Bool {
        func at(_ offset: Int, _ bytes: [UInt8]) -> Bool {
            header.count >= offset + bytes.count && Array(header[offset..<(offset + bytes.count)]) == bytes
        }
        func text(_ offset: Int, _ s: String) -> Bool { at(offset, Array(s.utf8)) }
        if audioDecoder(forHeader: header) != .ffmpeg { return true }
        if text(0, "RIFF") && (text(8, "AVI ") || text(8, "WAVE")) { return true }
        if text(0, "ID3") || text(4, "ftyp") || text(0, "FLV") || text(0, ".snd") { return true }
        if at(0, [0x1A, 0x45, 0xDF, 0xA3]) { return true }                                  // EBML
        if at(0, [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11]) { return true }          // ASF
        if at(0, [0x00, 0x00, 0x01, 0xBA]) || at(0, [0x00, 0x00, 0x01, 0xB3]) { return true } // MPEG-PS/ES
        if header.count >= 2 && header[0] == 0xFF && header[1] & 0xE0 == 0xE0 { return true } // MPEG audio / ADTS
        let ext = (path as NSString).pathExtension.lowercased()
        return mediaExtensions.contains(ext)
    }

    /// Extensions taken as audio or video when the content has no known signature.
    public static let mediaExtensions: Set<String> = [
        "wav", "aif", "aiff", "flac", "ogg", "oga", "opus", "mp3", "aac", "m4a", "mp4", "m4v", "mov",
        "mkv", "mka", "webm", "avi", "wma", "wmv", "flv", "mpg", "mpeg", "ts", "3gp", "ac3", "amr",
    ]

    /// The first `count` bytes of a file (fewer for a short or unreadable one).
    static func header(ofFile path: String, count: Int = 16) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        return [UInt8]((try? handle.read(upToCount: count)) ?? Data())
    }
}
