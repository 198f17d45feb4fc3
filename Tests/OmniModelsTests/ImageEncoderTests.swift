// ImageEncoder: documented token counts and masks on batches of mixed sizes with missing images,
// padding that leaves every image's tokens unchanged (a sample alone = the same sample beside
// bigger ones), modality tags, the MobileNetV2 trunk's token grid against torchvision, and
// gradients reaching every trainable parameter — for the ViT, Swin and MobileNetV2 backbones.
import Foundation
import Testing
@testable import OmniModels
import OmniNN
import OmniTensor

private let vitBackbone = ImageEncoderConfiguration(backbone: .vit(tinyViTConfiguration), dimension: 24)
private let swinBackbone = ImageEncoderConfiguration(backbone: .swin(tinySwinConfiguration), dimension: 24)
private let mobileNetBackbone = ImageEncoderConfiguration(
    backbone: .mobileNetV2(MobileNetV2Configuration(widthMultiplier: 0.25, classCount: 10)), dimension: 24)

@Suite struct ImageEncoderTests {
    @Test func vitTokensAndMasksOnMixedSizes() {
        let encoder = ImageEncoder(vitBackbone, generator: Generator(seed: 1))
        encoder.eval()
        // grids 4×4, 2×3 (16×29: 5 columns of pixels dropped), none, 5×3
        let images: [Tensor?] = [EncoderCheck.image(32, 32, seed: 1), EncoderCheck.image(16, 29, seed: 2), nil,
                                 EncoderCheck.image(40, 24, seed: 3)]
        let out = GradMode.withoutGrad { encoder(ImageBatch(images: images)) }
        let lengths = [17, 7, 0, 16]
        #expect(out.tokens.shape == [4, 17, 24])
        #expect(out.mask.toBoolArray() == lengths.flatMap { len in (0..<17).map { $0 < len } })
        #expect(encoder.tokenCount(height: 16, width: 29) == 7 && encoder.tokenCount(height: 40, width: 24) == 16)
        let v = out.tokens.toArray()
        for (b, len) in lengths.enumerated() {
            let row = v[(b * 17 * 24)..<((b + 1) * 17 * 24)]
            #expect(row.dropFirst(len * 24).allSatisfy { $0 == 0 }, "sample \(b): padding is not zero")
            #expect(len == 0 || row.prefix(len * 24).contains { $0 != 0 }, "sample \(b): no tokens")
        }
    }

    @Test(arguments: ["vit", "swin", "mobilenet"])
    func paddingDoesNotChangeAnImagesTokens(backbone: String) {
        let config = ["vit": vitBackbone, "swin": swinBackbone, "mobilenet": mobileNetBackbone][backbone]!
        let encoder = ImageEncoder(config, generator: Generator(seed: 2))
        encoder.eval()
        let small = EncoderCheck.image(24, 16, seed: 4)
        let alone = GradMode.withoutGrad { encoder(ImageBatch(images: [small])) }
        let batch = GradMode.withoutGrad {
            encoder(ImageBatch(images: [EncoderCheck.image(48, 40, seed: 5), nil, small, EncoderCheck.image(24, 16, seed: 6)]))
        }
        let n = alone.length
        #expect(n == encoder.tokenCount(height: 24, width: 16))
        #expect(batch.length == encoder.tokenCount(height: 48, width: 40) && batch.length > n)
        #expect(alone.mask.toBoolArray().allSatisfy { $0 })
        #expect(Array(batch.mask.toBoolArray()[(2 * batch.length)..<(3 * batch.length)]) == (0..<batch.length).map { $0 < n })
        EncoderCheck.expectNear(EncoderCheck.row(batch.tokens, 2, length: n), EncoderCheck.row(alone.tokens, 0, length: n),
                                tolerance: 1e-5, "\(backbone): image alone vs in a padded batch")
        #expect(batch.mask.toBoolArray()[batch.length..<(2 * batch.length)].allSatisfy { !$0 }, "missing image has real tokens")
    }

    @Test func swinAndMobileNetTokenCounts() {
        let swin = ImageEncoder(swinBackbone, generator: Generator(seed: 3))
        // patch 2 then one merge: 22×26 → 11×13 → 6×7
        let s = GradMode.withoutGrad { swin(ImageBatch(images: [EncoderCheck.image(22, 26, seed: 1), EncoderCheck.image(8, 8, seed: 2)])) }
        #expect(s.tokens.shape == [2, 42, 24])
        #expect(s.mask.toBoolArray() == (0..<42).map { _ in true } + (0..<42).map { $0 < 4 })
        let mobile = ImageEncoder(mobileNetBackbone, generator: Generator(seed: 3))
        mobile.eval()
        // stride 32 with ceil: 64×96 → 2×3, 33×20 → 2×1
        let m = GradMode.withoutGrad { mobile(ImageBatch(images: [EncoderCheck.image(33, 20, seed: 1), EncoderCheck.image(64, 96, seed: 2)])) }
        #expect(m.tokens.shape == [2, 6, 24])
        #expect(m.mask.toBoolArray() == (0..<6).map { $0 < 2 } + (0..<6).map { _ in true })
    }

    @Test func modalityTagsAddTheirEmbedding() throws {
        let encoder = ImageEncoder(vitBackbone, generator: Generator(seed: 4))
        encoder.eval()
        let image = EncoderCheck.image(32, 32, seed: 8)
        let out = GradMode.withoutGrad {
            encoder(ImageBatch(images: [image, image, image], modalities: [nil, .ct, ImagingModality(dicomCode: "MG ")]))
        }
        let table = try #require(encoder.modalityEmbedding)
        #expect(table.shape == [ImagingModality.allCases.count, 24])
        let plain = EncoderCheck.row(out.tokens, 0, length: 17)
        for (b, tag) in [(1, ImagingModality.ct), (2, .mg)] {
            let row = table.narrowed(axis: 0, start: tag.index, length: 1)   // [1, D]
            EncoderCheck.expectNear(EncoderCheck.row(out.tokens, b, length: 17), plain + row, tolerance: 1e-6, "\(tag) tag")
        }
        #expect(ImagingModality(dicomCode: "xyz") == .other && ImagingModality(dicomCode: " mr") == .mr)
        let untagged = ImageEncoder(ImageEncoderConfiguration(backbone: .vit(tinyViTConfiguration), dimension: 24, modalityTags: false),
                                    generator: Generator(seed: 4))
        #expect(untagged.modalityEmbedding == nil)
        #expect(!untagged.stateDict().keys.contains("modality_embed"))
    }

    @Test func mobileNetTrunkTokensMatchTorchvision() throws {
        let checkpoint = Assets.file("mobilenet_v2/mobilenet_v2-b0353104.pth")
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            Issue.record("missing asset \(checkpoint.path): run scripts/fetch-assets (with OMNI_ASSETS set to the asset folder)")
            return
        }
        let encoder = ImageEncoder(ImageEncoderConfiguration(backbone: .mobileNetV2(MobileNetV2Configuration()), dimension: 16),
                                   generator: Generator(seed: 0))
        try encoder.loadBackbone(contentsOf: checkpoint)
        encoder.eval()
        let folder = EncoderCheck.fixtures.appendingPathComponent("mobilenet_v2")
        let input = try NPY.read(contentsOf: folder.appendingPathComponent("chelsea_input.npy").path)      // [1, 3, 224, 224]
        let grid = try NPY.read(contentsOf: folder.appendingPathComponent("chelsea_features.npy").path)    // [1, 1280, 7, 7]
        let (tokens, lengths) = GradMode.withoutGrad { encoder.backboneTokens([input.squeezed(axis: 0)]) }
        #expect(lengths == [49])
        EncoderCheck.expectNear(tokens, grid.permuted([0, 2, 3, 1]).reshaped([1, 49, 1280]), tolerance: 1e-4, "trunk tokens")
        let out = GradMode.withoutGrad { encoder(ImageBatch(images: [input.squeezed(axis: 0)])) }
        EncoderCheck.expectNear(out.tokens, GradMode.withoutGrad { encoder.projection(tokens) }, tolerance: 1e-5, "projected tokens")
        #expect(encoder.trainableParameters().allSatisfy { !$0.path.hasPrefix("backbone.classifier") })
    }

    @Test(arguments: ["vit", "swin", "mobilenet"])
    func gradientsReachEveryParameter(backbone: String) {
        let config = ["vit": vitBackbone, "swin": swinBackbone, "mobilenet": mobileNetBackbone][backbone]!
        let encoder = ImageEncoder(config, generator: Generator(seed: 5))
        if backbone == "mobilenet" { encoder.eval() }   // BatchNorm statistics of a 1-image group are degenerate
        let batch = ImageBatch(images: [EncoderCheck.image(32, 32, seed: 1), nil, EncoderCheck.image(16, 24, seed: 2)],
                               modalities: [.ct, nil, nil])
        EncoderCheck.expectGradientsEverywhere(encoder, "\(backbone) encoder") { e in EncoderCheck.weightedSum(e(batch).tokens) }
    }

    @Test func allMissingGivesAnEmptyMask() {
        let encoder = ImageEncoder(vitBackbone, generator: Generator(seed: 6))
        let out = encoder(ImageBatch(images: [nil, nil]))
        #expect(out.tokens.shape == [2, 1, 24] && out.mask.toBoolArray() == [false, false])
        #expect(out.tokens.toArray().allSatisfy { $0 == 0 })
    }

    @Test func configurationRoundTripsThroughJSON() throws {
        for config in [vitBackbone, swinBackbone, mobileNetBackbone] {
            let data = try JSONEncoder().encode(config)
            #expect(try JSONDecoder().decode(ImageEncoderConfiguration.self, from: data) == config)
        }
        #expect(ImageEncoderConfiguration(backbone: .vit(tinyViTConfiguration), dimension: 0).problem == "dimension must be positive, got 0")
    }
}
