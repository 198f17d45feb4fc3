// Misuse of the image API (bad sizes, layouts, parameters) stops with a message naming the
// operation and the values involved; bad *data* throws ImageError instead (ImageBadInputTests).
import Testing
import OmniData
import OmniTensor

@Suite("Image misuse")
struct ImageMisuseTests {
    @Test func resizeToZeroNamesTheSize() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let image = Image(width: 2, height: 2, channels: 1, pixels: [UInt8](repeating: 0, count: 4))
            _ = image.resized(width: 0, height: 5)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("resized: size must be positive, got 0x5"), "stderr was: \(stderr)")
    }

    @Test func wrongSampleCountNamesTheLayout() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Image(width: 3, height: 2, channels: 3, pixels: [UInt8](repeating: 0, count: 17))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("Image.init: 17 samples do not fill 3x2x3 (18)"), "stderr was: \(stderr)")
    }

    @Test func jpegWithAlphaNamesTheChannels() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let image = Image(width: 1, height: 1, channels: 4, pixels: [UInt8]([1, 2, 3, 4]))
            _ = try? image.jpegData()
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("jpegData: JPEG stores gray or RGB; this image has 4 channels"), "stderr was: \(stderr)")
    }

    @Test func normalizationChannelMismatchNamesTheShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([4, 2, 2]).normalizedChannels(.imageNet)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("normalizedChannels: tensor of shape [4, 2, 2] has 4 channels; mean/std have 3"),
                "stderr was: \(stderr)")
    }
}
