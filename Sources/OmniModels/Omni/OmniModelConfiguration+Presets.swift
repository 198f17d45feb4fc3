// The presets `tiny`, `small` and `base`.
import OmniData
import OmniNN

extension OmniModelConfiguration {
    /// Names accepted by ``preset(_:)``.
    public static let presetNames = ["tiny", "small", "base"]

    /// A preset by name, or nil.
    ///
    /// - `tiny` (D 128): the demo model — 64 px images in 8 px patches made by a 3-stage
    ///   convolutional stem (32, 64, 128 channels; a ViT trained from scratch in minutes learns
    ///   shapes and counts far sooner with it), 4 frames per video clip, 80-mel audio with a Whisper
    ///   stem, 2 kHz vibration, 2-layer text encoder and decoder over a 2048-token vocabulary.
    /// - `small` (D 256): 128 px images in 16 px patches, 4-layer encoders, 8192 tokens.
    /// - `base` (D 512): 224 px ViT-B-style images (12 blocks), 8-layer text, 6-layer audio,
    ///   32000 tokens, 4 co-attention blocks.
    public static func preset(_ name: String) -> OmniModelConfiguration? {
        switch name {
        case "tiny":
            return make(name: "tiny", d: 128, heads: 4, vocab: 2048, imageSize: 64, patch: 8, imageDepth: 4,
                        textLayers: 2, audioLayers: 2, videoDepth: 1, signalLayers: 1, fusionDepth: 1, decoderLayers: 2,
                        maxText: 64, imageStem: [32, 64, 128], clipFrames: 4)
        case "small":
            return make(name: "small", d: 256, heads: 4, vocab: 8192, imageSize: 128, patch: 16, imageDepth: 6,
                        textLayers: 4, audioLayers: 4, videoDepth: 2, signalLayers: 2, fusionDepth: 2, decoderLayers: 4,
                        maxText: 128)
        case "base":
            return make(name: "base", d: 512, heads: 8, vocab: 32000, imageSize: 224, patch: 16, imageDepth: 12,
                        textLayers: 8, audioLayers: 6, videoDepth: 4, signalLayers: 4, fusionDepth: 4, decoderLayers: 6,
                        maxText: 512)
        default:
            return nil
        }
    }

    static func make(name: String, d: Int, heads: Int, vocab: Int, imageSize: Int, patch: Int, imageDepth: Int,
                     textLayers: Int, audioLayers: Int, videoDepth: Int, signalLayers: Int, fusionDepth: Int,
                     decoderLayers: Int, maxText: Int, imageStem: [Int]? = nil, clipFrames: Int? = nil) -> OmniModelConfiguration {
        let vit = VisionTransformerConfiguration(imageSize: imageSize, patchSize: patch, dimension: d, depth: imageDepth,
                                                 heads: heads, mlpHiddenSize: 4 * d, classCount: 0, pooling: .classToken,
                                                 stemChannels: imageStem)
        let image = ImageEncoderConfiguration(backbone: .vit(vit), dimension: d)
        return OmniModelConfiguration(
            name: name, dimension: d,
            text: .rotary(vocabSize: vocab, dimension: d, layers: textLayers, heads: heads, maxLength: maxText),
            image: image,
            audio: .whisper(melBins: 80, dimension: d, layers: audioLayers, heads: heads),
            video: VideoEncoderConfiguration(frames: image, depth: videoDepth, heads: heads, maxFrames: 32, clipFrames: clipFrames),
            signal: SignalEncoderConfig(sampleRate: 2000, dimension: d, window: 64, hop: 16, stageChannels: [32, 64],
                                        stageTimeStrides: [2, 2], layers: signalLayers, heads: heads),
            fusion: FusionConfiguration(kind: .dynamic, depth: fusionDepth, heads: heads),
            heads: HeadsConfiguration(embeddingDimension: d,
                                      decoder: TextDecoderConfig(vocabSize: vocab, dimension: d, layers: decoderLayers,
                                                                 heads: heads, maxLength: maxText)))
    }
}
