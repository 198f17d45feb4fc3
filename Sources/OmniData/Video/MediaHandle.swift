import COmniMedia
import Foundation

/// An open FFmpeg container (COmniMedia's `omni_media`), from a file or from bytes it owns.
/// Errors come back as `(file, message)` for the caller to wrap in its own error type.
final class MediaHandle {
    struct Failure: Error { let message: String }

    let name: String
    let pointer: OpaquePointer
    /// The bytes behind an in-memory handle; COmniMedia reads them until `deinit`.
    private let storage: UnsafeMutableRawBufferPointer?

    /// Opens `path`; a missing path or a directory is reported before FFmpeg sees it.
    init(path: String, limits: MediaLimits) throws(Failure) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw Failure(message: "no such file") }
        guard !isDirectory.boolValue else { throw Failure(message: "is a directory") }
        var limitsC = limits.c
        var handle: OpaquePointer?
        var err = [CChar](repeating: 0, count: 512)
        let status = omni_media_open_file(path, &limitsC, &handle, &err, err.count)
        guard status == 0, let handle else { throw Failure(message: MediaHandle.message(err)) }
        name = path
        pointer = handle
        storage = nil
    }

    /// Opens encoded bytes (copied); `name` is used for messages and as a format hint.
    init(data: [UInt8], name: String, limits: MediaLimits) throws(Failure) {
        guard !data.isEmpty else { throw Failure(message: "empty file") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 16)
        buffer.copyBytes(from: data)
        var limitsC = limits.c
        var handle: OpaquePointer?
        var err = [CChar](repeating: 0, count: 512)
        let status = omni_media_open_memory(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), data.count, name,
                                            &limitsC, &handle, &err, err.count)
        guard status == 0, let handle else {
            buffer.deallocate()
            throw Failure(message: MediaHandle.message(err))
        }
        self.name = name
        pointer = handle
        storage = buffer
    }

    deinit {
        omni_media_close(pointer)
        storage?.deallocate()
    }

    static func message(_ err: [CChar]) -> String {
        let text = err.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return text.isEmpty ? "unknown FFmpeg error" : text
    }

    var info: omni_media_info {
        var info = omni_media_info()
        omni_media_get_info(pointer, &info)
        return info
    }

    /// Decodes the best audio stream to interleaved float32 at its own rate and channel count.
    func decodeAudio() throws(Failure) -> AudioFile {
        var samples: UnsafeMutablePointer<Float>?
        var frames: Int64 = 0
        var channels: Int32 = 0, rate: Int32 = 0
        var err = [CChar](repeating: 0, count: 512)
        let status = omni_media_decode_audio(pointer, &samples, &frames, &channels, &rate, &err, err.count)
        guard status == 0, let samples else { throw Failure(message: MediaHandle.message(err)) }
        defer { omni_media_free(samples) }
        let buffer = Array(UnsafeBufferPointer(start: samples, count: Int(frames) * Int(channels)))
        return AudioFile(samples: buffer, channels: Int(channels), sampleRate: Int(rate))
    }

    func indexVideo() throws(Failure) -> Int {
        var count: Int64 = 0
        var err = [CChar](repeating: 0, count: 512)
        guard omni_media_index_video(pointer, &count, &err, err.count) == 0 else { throw Failure(message: MediaHandle.message(err)) }
        return Int(count)
    }

    func frameTime(_ index: Int) -> Double { omni_media_frame_time(pointer, Int64(index)) }

    /// Frame `index` as packed RGB24 of `width` × `height`.
    func readFrame(_ index: Int, width: Int, height: Int) throws(Failure) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        var err = [CChar](repeating: 0, count: 512)
        let status = rgb.withUnsafeMutableBufferPointer {
            omni_media_read_video_frame(pointer, Int64(index), $0.baseAddress, $0.count, &err, err.count)
        }
        guard status == 0 else { throw Failure(message: MediaHandle.message(err)) }
        return rgb
    }

    var packetsDecoded: Int { Int(omni_media_video_packets_decoded(pointer)) }
    var hasTimestamps: Bool { omni_media_video_has_timestamps(pointer) != 0 }
}

/// A fixed-size C char array (imported as a tuple) as a String.
func cString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// `omni_media_info` with Swift types.
struct MediaInfo {
    let format: String
    let duration: Double?
    let hasAudio: Bool
    let audioCodec: String
    let sampleRate: Int
    let channels: Int
    let audioDuration: Double?

    init(_ c: omni_media_info) {
        format = cString(c.format)
        duration = c.duration >= 0 ? c.duration : nil
        hasAudio = c.audio_stream >= 0
        audioCodec = cString(c.audio_codec)
        sampleRate = Int(c.sample_rate)
        channels = Int(c.channels)
        audioDuration = c.audio_duration >= 0 ? c.audio_duration : nil
    }
}
