// VideoEncoder: one token per frame with masks on videos of different lengths and sizes (and
// missing ones), padding that leaves a video's tokens unchanged, the composition of frame
// pooling, time positions and the final norm checked value by value, and gradients reaching every
// trainable parameter.
import Foundation
import Testing
@testable import OmniModels
import OmniNN
import OmniTensor

private let frameConfig = ImageEncoderConfiguration(backbone: .vit(tinyViTConfiguration), dimension: 16)

@Suite struct VideoEncoderTests {
    @Test func tokensAndMasksOnMixedLengths() {
        let encoder = VideoEncoder(VideoEncoderConfiguration(frames: frameConfig, depth: 1, heads: 2, maxFrames: 8),
                                   generator: Generator(seed: 1))
        encoder.eval()
        let videos: [Tensor?] = [EncoderCheck.video(frames: 4, 32, 32, seed: 1), EncoderCheck.video(frames: 2, 16, 24, seed: 2), nil]
        let out = GradMode.withoutGrad { encoder(VideoBatch(videos: videos)) }
        #expect(out.tokens.shape == [3, 4, 16])
        #expect(out.mask.toBoolArray() == [true, true, true, true, true, true, false, false, false, false, false, false])
        let v = out.tokens.toArray()
        #expect(v[(1 * 64 + 2 * 16)..<(2 * 64)].allSatisfy { $0 == 0 } && v[(2 * 64)...].allSatisfy { $0 == 0 })
        #expect(v[0..<(1 * 64 + 2 * 16)].contains { $0 != 0 })
    }

    @Test(arguments: [VideoEncoderConfiguration.TimePositions.learned, .sinusoidal])
    func paddingDoesNotChangeAVideosTokens(positions: VideoEncoderConfiguration.TimePositions) {
        let encoder = VideoEncoder(VideoEncoderConfiguration(frames: frameConfig, depth: 2, heads: 2, timePositions: positions, maxFrames: 8),
                                   generator: Generator(seed: 2))
        encoder.eval()
        let short = EncoderCheck.video(frames: 3, 24, 16, seed: 3)
        let alone = GradMode.withoutGrad { encoder(VideoBatch(videos: [short])) }
        let batch = GradMode.withoutGrad {
            encoder(VideoBatch(videos: [nil, EncoderCheck.video(frames: 6, 40, 32, seed: 4), short]))
        }
        #expect(alone.tokens.shape == [1, 3, 16] && batch.tokens.shape == [3, 6, 16])
        EncoderCheck.expectNear(EncoderCheck.row(batch.tokens, 2, length: 3), EncoderCheck.row(alone.tokens, 0, length: 3),
                                tolerance: 1e-5, "video alone vs in a padded batch (\(positions))")
    }

    @Test func withoutTemporalBlocksTokensAreNormalisedFramesPlusTime() {
        // depth 0: token t = LayerNorm(mean of frame t's image tokens + time position t)
        let encoder = VideoEncoder(VideoEncoderConfiguration(frames: frameConfig, depth: 0, heads: 2, maxFrames: 4),
                                   generator: Generator(seed: 3))
        encoder.eval()
        let video = EncoderCheck.video(frames: 3, 32, 24, seed: 5)
        let out = GradMode.withoutGrad { encoder(VideoBatch(videos: [video])) }
        let frames = (0..<3).map { video.narrowed(axis: 0, start: $0, length: 1).squeezed(axis: 0) }
        let images = GradMode.withoutGrad { encoder.frameEncoder(ImageBatch(images: frames)) }   // [3, 13, 16]
        let time = encoder.timeTable!.toArray()
        let weight = encoder.norm.weight!.toArray(), bias = encoder.norm.bias!.toArray()
        var expected: [Double] = []
        let tokens = images.tokens.toArray()
        for t in 0..<3 {
            let n = 13   // 1 + 4·3 tokens per 32×24 frame, all real
            var x = (0..<16).map { d in (0..<n).reduce(0.0) { $0 + Double(tokens[(t * n + $1) * 16 + d]) } / Double(n) }
            x = x.enumerated().map { $0.element + Double(time[t * 16 + $0.offset]) }
            let mean = x.reduce(0, +) / 16
            let variance = x.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / 16
            expected += x.enumerated().map { ($0.element - mean) / (variance + 1e-5).squareRoot() * Double(weight[$0.offset]) + Double(bias[$0.offset]) }
        }
        expectClose(out.tokens, expected, shape: [1, 3, 16], atol: 1e-5, rtol: 1e-4, "depth-0 video tokens")
    }

    @Test func gradientsReachEveryParameter() {
        let encoder = VideoEncoder(VideoEncoderConfiguration(frames: frameConfig, depth: 1, heads: 2, maxFrames: 4),
                                   generator: Generator(seed: 4))
        let batch = VideoBatch(videos: [EncoderCheck.video(frames: 4, 32, 32, seed: 1), nil, EncoderCheck.video(frames: 2, 16, 24, seed: 2)])
        EncoderCheck.expectGradientsEverywhere(encoder, "video encoder") { e in EncoderCheck.weightedSum(e(batch).tokens) }
        #expect(!encoder.stateDict().keys.contains { $0.contains("modality_embed") })
    }

    @Test func configurationRoundTripsThroughJSON() throws {
        let config = VideoEncoderConfiguration(frames: frameConfig, depth: 3, heads: 4, timePositions: .sinusoidal)
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(VideoEncoderConfiguration.self, from: data) == config)
        #expect(config.mlpHiddenSize == 64)
        #expect(VideoEncoderConfiguration(frames: frameConfig, heads: 3).problem == "dimension 16 is not divisible by 3 heads")
    }
}
