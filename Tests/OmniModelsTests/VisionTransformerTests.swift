// VisionTransformer against a plain-PyTorch ViT with the same keys (Fixtures/vit_tiny, made by
// scripts/fixtures/make_vit_fixture.py): outputs at the native grid and at two other grids
// (bicubic position resampling, checked against F.interpolate), MAE's 2-D sin-cos table, timm's
// checkpoint names, strict loading, and gradients reaching every parameter.
import Foundation
import Testing
@testable import OmniModels
import OmniNN
import OmniTensor

/// The fixture's architecture: 32 px, patch 8, width 32, 2 blocks of 2 heads, MLP 64, 5 classes.
let tinyViTConfiguration = VisionTransformerConfiguration(
    imageSize: 32, patchSize: 8, dimension: 32, depth: 2, heads: 2, mlpHiddenSize: 64, classCount: 5)

private func fixtureViT() throws -> VisionTransformer {
    let model = VisionTransformer(tinyViTConfiguration, generator: Generator(seed: 9))
    try model.load(try EncoderCheck.tensors("vit_tiny", "vit_tiny.safetensors"), file: "vit_tiny.safetensors")
    model.eval()
    return model
}

/// The stem fixture: the same ViT with a convolutional stem of 8 and 16 channels (proj 2×2).
let stemViTConfiguration = VisionTransformerConfiguration(
    imageSize: 32, patchSize: 8, dimension: 32, depth: 2, heads: 2, mlpHiddenSize: 64, classCount: 5, stemChannels: [8, 16])

private func fixtureStemViT() throws -> VisionTransformer {
    let model = VisionTransformer(stemViTConfiguration, generator: Generator(seed: 9))
    try model.load(try EncoderCheck.tensors("vit_stem", "vit_stem.safetensors"), file: "vit_stem.safetensors")
    model.eval()
    return model
}

@Suite struct VisionTransformerTests {
    @Test(arguments: ["32x32", "48x40", "21x29"])
    func convolutionalStemMatchesPyTorch(size: String) throws {
        let model = try fixtureStemViT()
        let packed = model.packedForInference()
        let io = try EncoderCheck.tensors("vit_stem", "vit_stem_io.safetensors")
        let x = try #require(io["input_\(size)"])
        let (features, logits) = GradMode.withoutGrad { (model.features(x), model(x)) }
        EncoderCheck.expectNear(features, try #require(io["features_\(size)"]), tolerance: 1e-4, "stem features \(size)")
        EncoderCheck.expectNear(logits, try #require(io["logits_\(size)"]), tolerance: 1e-4, "stem logits \(size)")
        EncoderCheck.expectNear(packed.features(x), try #require(io["features_\(size)"]), tolerance: 1e-4, "packed stem features \(size)")
        EncoderCheck.expectNear(packed(x), try #require(io["logits_\(size)"]), tolerance: 1e-4, "packed stem logits \(size)")
    }

    @Test func convolutionalStemGridRoundsUpPerStage() {
        // 21 → 11 → 6 rows on the stem's map, then 6 / 2 = 3 patches (⌊21/8⌋ = 2 without a stem)
        #expect(stemViTConfiguration.grid(height: 21, width: 29) == (3, 4))
        #expect(tinyViTConfiguration.grid(height: 21, width: 29) == (2, 3))
        #expect(stemViTConfiguration.projectionPatchSize == 2)
        let encoder = ImageEncoder(ImageEncoderConfiguration(backbone: .vit(stemViTConfiguration), dimension: 16), generator: Generator(seed: 1))
        #expect(encoder.tokenCount(height: 21, width: 29) == 1 + 3 * 4)
        let out = GradMode.withoutGrad { encoder(ImageBatch(images: [Tensor.zeros([3, 21, 29])])) }
        #expect(out.tokens.shape == [1, 13, 16])
    }

    @Test(arguments: ["32x32", "48x40", "20x29"])
    func matchesPyTorch(size: String) throws {
        let model = try fixtureViT()
        let io = try EncoderCheck.tensors("vit_tiny", "vit_tiny_io.safetensors")
        let x = try #require(io["input_\(size)"])
        let (features, logits) = GradMode.withoutGrad { (model.features(x), model(x)) }
        EncoderCheck.expectNear(features, try #require(io["features_\(size)"]), tolerance: 1e-4, "features \(size)")
        EncoderCheck.expectNear(logits, try #require(io["logits_\(size)"]), tolerance: 1e-4, "logits \(size)")
    }

    @Test(arguments: ["32x32", "48x40", "20x29"])
    func packedInferenceMatchesPyTorch(size: String) throws {
        let packed = try fixtureViT().packedForInference()
        let io = try EncoderCheck.tensors("vit_tiny", "vit_tiny_io.safetensors")
        let x = try #require(io["input_\(size)"])
        EncoderCheck.expectNear(packed.features(x), try #require(io["features_\(size)"]), tolerance: 1e-4, "packed features \(size)")
        EncoderCheck.expectNear(packed(x), try #require(io["logits_\(size)"]), tolerance: 1e-4, "packed logits \(size)")
    }

    @Test func packedInferenceMasksPaddedKeysLikeTheModule() throws {
        let model = try fixtureViT()
        let packed = model.packedForInference(rowsHint: 34)
        let tokens = Tensor.normal([2, 9, 32], generator: Generator(seed: 3))
        let keyPadding = Tensor((0..<18).map { $0 < 9 || $0 < 9 + 5 }, shape: [2, 9])
        let (a, b) = GradMode.withoutGrad { (packed.encode(tokens, keyPadding: keyPadding), model.encode(tokens, keyPadding: keyPadding)) }
        EncoderCheck.expectNear(EncoderCheck.row(a, 1, length: 5), EncoderCheck.row(b, 1, length: 5), tolerance: 1e-5, "padded sample")
        EncoderCheck.expectNear(EncoderCheck.row(a, 0, length: 9), EncoderCheck.row(b, 0, length: 9), tolerance: 1e-5, "full sample")
        // a second thread count and row count get primitives of their own
        let saved = Threads.count
        Threads.count = 2
        defer { Threads.count = saved }
        let x = Tensor.normal([3, 3, 32, 24], generator: Generator(seed: 4))
        EncoderCheck.expectNear(packed(x), GradMode.withoutGrad { model(x) }, tolerance: 1e-5, "2 threads, batch 3 at 32×24")
    }

    @Test(arguments: Activation.allCases.map(Optional.some) + [nil])
    func packedLinearMatchesLinear(activation: Activation?) {
        let weight = Tensor.normal([7, 5], generator: Generator(seed: 1))
        let bias = Tensor.normal([7], generator: Generator(seed: 2))
        let x = Tensor.normal([3, 5], generator: Generator(seed: 3)) * 2
        let residual = Tensor.normal([3, 7], generator: Generator(seed: 4))
        for (withBias, withResidual) in [(true, false), (false, true), (true, true)] {
            let layer = PackedLinear(weight: weight, bias: withBias ? bias : nil, activation: activation, residual: withResidual,
                                     rowsHint: 16)
            var expected = x.linear(weight: weight, bias: withBias ? bias : nil)
            if let activation { expected = activation(expected) }
            if withResidual { expected = expected + residual }
            EncoderCheck.expectNear(layer(x, residual: withResidual ? residual : nil), expected, tolerance: 2e-6,
                                    "\(activation?.rawValue ?? "identity"), bias \(withBias), residual \(withResidual)")
            #expect(layer(Tensor.zeros([0, 5]), residual: withResidual ? Tensor.zeros([0, 7]) : nil).shape == [0, 7])
        }
    }

    @Test func positionsResampleLikeInterpolateBicubic() throws {
        let model = try fixtureViT()
        let io = try EncoderCheck.tensors("vit_tiny", "vit_tiny_io.safetensors")
        EncoderCheck.expectNear(model.positions(gridHeight: 6, gridWidth: 5), try #require(io["positions_6x5"]),
                                tolerance: 1e-5, "upsampled 4×4 → 6×5")
        EncoderCheck.expectNear(model.positions(gridHeight: 2, gridWidth: 3), try #require(io["positions_2x3"]),
                                tolerance: 1e-5, "downsampled 4×4 → 2×3")
    }

    @Test func resamplingAtTheNativeSizeIsTheIdentity() throws {
        for n in [1, 4, 7, 14] {
            let w = VisionTransformer.bicubicWeights(from: n, to: n)
            let identity = (0..<(n * n)).map { Double($0 / n == $0 % n ? 1 : 0) }
            #expect(w == identity, "bicubic weights \(n) → \(n) are not the identity")
        }
        let model = try fixtureViT()
        let table = try #require(model.positionTable)
        let native = table.narrowed(axis: 1, start: 1, length: 16).reshaped([16, 32])
        #expect(model.positions(gridHeight: 4, gridWidth: 4).toArray() == native.toArray())
    }

    @Test func bicubicWeightsMatchTheKernelFormula() {
        // 2 → 5: source positions (i + 0.5)·0.4 − 0.5, taps clamped at the borders; each row sums to 1
        let w = VisionTransformer.bicubicWeights(from: 2, to: 5)
        for i in 0..<5 {
            let row = Array(w[(i * 2)..<(i * 2 + 2)])
            #expect(Swift.abs(row.reduce(0, +) - 1) < 1e-12, "row \(i) sums to \(row.reduce(0, +))")
        }
        // output 2 sits exactly between the inputs (source 0.5): weights 0.5, 0.5
        #expect(Swift.abs(w[4] - 0.5) < 1e-12 && Swift.abs(w[5] - 0.5) < 1e-12, "middle row \(w[4...5])")
    }

    @Test func sinCosPositionsMatchMAE() throws {
        var config = tinyViTConfiguration
        config.positionEmbedding = .sinCos2D
        let model = VisionTransformer(config, generator: Generator(seed: 1))
        #expect(model.positionTable == nil)
        #expect(!model.namedParameters().contains { $0.path == "pos_embed" })
        let io = try EncoderCheck.tensors("vit_tiny", "vit_tiny_io.safetensors")
        EncoderCheck.expectNear(model.positions(gridHeight: 4, gridWidth: 5), try #require(io["sincos_4x5_dim32"]),
                                tolerance: 1e-6, "sin-cos 4×5")
        // any image size works, and the class token sits at position 0
        let y = GradMode.withoutGrad { model.features(Tensor.normal([1, 3, 24, 40], generator: Generator(seed: 2))) }
        #expect(y.shape == [1, 1 + 3 * 5, 32])
    }

    @Test func timmCheckpointNamesLoadThroughSanitize() throws {
        let reference = try fixtureViT()
        var timm: [String: Tensor] = [:]
        for (key, tensor) in reference.stateDict() {
            guard let r = key.range(of: ".self_attn.") else { timm[key] = tensor; continue }
            let block = key[..<r.lowerBound], rest = key[r.upperBound...]
            if rest.hasPrefix("out_proj.") { timm["\(block).attn.proj.\(rest.dropFirst(9))"] = tensor }
        }
        for b in 0..<2 {
            for kind in ["weight", "bias"] {
                let parts = ["q_proj", "k_proj", "v_proj"].map { reference.stateDict()["blocks.\(b).self_attn.\($0).\(kind)"]! }
                timm["blocks.\(b).attn.qkv.\(kind)"] = Tensor.concatenated(parts, axis: 0)
            }
        }
        #expect(timm.count == reference.stateDict().count - 2 * 4)
        let model = VisionTransformer(tinyViTConfiguration, generator: Generator(seed: 3))
        try model.load(timm)
        model.eval()
        let x = Tensor.normal([1, 3, 32, 32], generator: Generator(seed: 4))
        let (a, b) = GradMode.withoutGrad { (model(x), reference(x)) }
        #expect(a.toArray() == b.toArray())
    }

    @Test func strictLoadingNamesEveryProblem() throws {
        var weights = try EncoderCheck.tensors("vit_tiny", "vit_tiny.safetensors")
        weights["blocks.1.mlp.fc2.bias"] = nil
        weights["blocks.7.mlp.fc2.bias"] = Tensor.zeros([32])
        weights["pos_embed"] = Tensor.zeros([1, 5, 32])
        let model = VisionTransformer(tinyViTConfiguration, generator: Generator(seed: 0))
        do {
            try model.load(weights)
            Issue.record("loading a damaged checkpoint succeeded")
        } catch {
            #expect(error.missing == ["blocks.1.mlp.fc2.bias"])
            #expect(error.unused == ["blocks.7.mlp.fc2.bias"])
            #expect(error.mismatched.map(\.key) == ["pos_embed"])
        }
    }

    @Test func gradientsReachEveryParameter() {
        let model = VisionTransformer(tinyViTConfiguration, generator: Generator(seed: 5))
        let x = Tensor.normal([2, 3, 32, 32], generator: Generator(seed: 6))
        EncoderCheck.expectGradientsEverywhere(model, "ViT logits") { m in EncoderCheck.weightedSum(m(x)) }
        var meanPooled = tinyViTConfiguration
        meanPooled.classToken = false
        meanPooled.pooling = .mean
        let noClass = VisionTransformer(meanPooled, generator: Generator(seed: 5))
        // a non-native grid: the resampled positions pass their gradient back to the table
        let y = Tensor.normal([1, 3, 40, 24], generator: Generator(seed: 7))
        EncoderCheck.expectGradientsEverywhere(noClass, "mean-pooled ViT at 40×24") { m in EncoderCheck.weightedSum(m(y)) }
        let stem = VisionTransformer(stemViTConfiguration, generator: Generator(seed: 5))
        EncoderCheck.expectGradientsEverywhere(stem, "ViT with a convolutional stem") { m in EncoderCheck.weightedSum(m(x)) }
    }

    @Test func presetsHaveTheirPublishedSizes() throws {
        // timm's vit_tiny_patch16_224 has 5,717,416 parameters
        let tiny = VisionTransformer(.vitTiny224, generator: Generator(seed: 0))
        #expect(tiny.parameterCount == 5_717_416)
        #expect(VisionTransformerConfiguration.presets["vit-tiny-224"] == .vitTiny224)
        let data = try JSONEncoder().encode(VisionTransformerConfiguration.vitSmall224)
        #expect(try JSONDecoder().decode(VisionTransformerConfiguration.self, from: data) == .vitSmall224)
        let out = GradMode.withoutGrad { tiny.features(Tensor.zeros([1, 3, 224, 224])) }
        #expect(out.shape == [1, 197, 192])
    }

    @Test func configurationProblemsAreNamed() throws {
        var c = tinyViTConfiguration
        c.heads = 3
        #expect(c.problem == "dimension 32 is not divisible by 3 heads")
        c = tinyViTConfiguration
        c.classToken = false
        #expect(c.problem == "pooling \"cls\" needs a class token")
        c = tinyViTConfiguration
        c.positionEmbedding = .sinCos2D
        c.dimension = 30
        c.heads = 2
        #expect(c.problem == "2-D sin-cos positions need a dimension divisible by 4, got 30")
        c = stemViTConfiguration
        c.stemChannels = [8, 16, 16, 16]
        #expect(c.problem == "patchSize 8 is not divisible by 2^4 (one halving per stemChannels entry)")
        c.stemChannels = [8, 0]
        #expect(c.problem == "stemChannels must be positive, got 0")
        // configurations written before the stem existed still decode (no stem)
        let old = #"{"imageSize":32,"patchSize":8,"channels":3,"dimension":32,"depth":2,"heads":2,"mlpHiddenSize":64,"classCount":5,"activation":"gelu","positionEmbedding":"learned","classToken":true,"pooling":"cls","layerNormEps":1e-6,"dropout":0}"#
        #expect(try JSONDecoder().decode(VisionTransformerConfiguration.self, from: Data(old.utf8)) == tinyViTConfiguration)
    }
}
