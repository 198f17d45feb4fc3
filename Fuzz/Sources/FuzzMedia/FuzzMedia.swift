// libFuzzer target: FFmpeg demuxing and decoding from memory (any container FFmpeg reads; video
// frames by seek and in order, the audio track). Any input must give frames/audio or a typed error.
import Foundation
import FuzzSupport
import OmniData

@main
enum FuzzMedia {
    static func main() {
        FuzzInput.run { data, size in
            guard let data else { return 0 }
            let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
            var limits = MediaLimits.default
            limits.maxSeconds = 5
            limits.maxFrames = 4096
            if let video = try? VideoReader(data: bytes, name: "fuzz", limits: limits), video.info.frameCount > 0 {
                let n = video.info.frameCount
                for i in [n - 1, 0, n / 2] { _ = try? video.frame(at: i) }
            }
            _ = try? AudioFile(encoded: bytes, name: "fuzz", limits: limits)
            return 0
        }
    }
}
