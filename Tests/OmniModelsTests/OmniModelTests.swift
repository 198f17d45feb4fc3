import Foundation
import OmniData
import OmniNN
import OmniTensor
import Testing
@testable import OmniModels

/// A very small model with every encoder and head, for debug-build tests.
func microConfiguration(kind: FusionKind = .dynamic) -> OmniModelConfiguration {
    let d = 16, heads = 2, vocab = 40
    let vit = VisionTransformerConfiguration(imageSize: 16, patchSize: 8, dimension: d, depth: 1, heads: heads,
                                             mlpHiddenSize: 32, classCount: 0)
    let image = ImageEncoderConfiguration(backbone: .vit(vit), dimension: d)
    return OmniModelConfiguration(
        name: "micro", dimension: d,
        text: .rotary(vocabSize: vocab, dimension: d, layers: 1, heads: heads, maxLength: 16),
        image: image,
        audio: .whisper(melBins: 80, dimension: d, layers: 1, heads: heads),
        video: VideoEncoderConfiguration(frames: image, depth: 1, heads: heads, maxFrames: 8),
        signal: SignalEncoderConfig(sampleRate: 200, dimension: d, window: 16, hop: 8, stageChannels: [4], layers: 1, heads: heads),
        fusion: FusionConfiguration(kind: kind, depth: 1, heads: heads),
        heads: HeadsConfiguration(embeddingDimension: 8, classCount: 3,
                                  decoder: TextDecoderConfig(vocabSize: vocab, dimension: d, layers: 1, heads: heads, maxLength: 16)),
        tasks: ["caption", "vqa", "classify"])
}

/// A mixed batch of 3 samples; sample 1 has no image and no audio, sample 2 no video and no signal.
func mixedInput() -> OmniInput {
    let text = TextEncoder.Batch(sequences: [[1, 5, 7, 2], [1, 9, 2], [1, 4, 4, 6, 8, 2]], padID: 0)
    let image = ImageBatch(images: [randomTensor([3, 16, 16], seed: 1), nil, randomTensor([3, 16, 24], seed: 2)], modalities: [nil, nil, .ct])   // a DICOM CT slice after windowing
    let mel = randomTensor([3, 80, 12], seed: 3)
    let audio = AudioEncoder.Batch(logMel: mel, frames: [12, 0, 7])
    let video = VideoBatch(videos: [randomTensor([3, 3, 16, 16], seed: 4), randomTensor([2, 3, 16, 16], seed: 5), nil])
    let signal = SignalEncoder.Batch(values: randomTensor([3, 2, 64], seed: 6), lengths: [64, 48, 0], channelCounts: [2, 1, 0], sampleRate: 200)
    return OmniInput(text: text, image: image, audio: audio, video: video, signal: signal, tasks: [0, 1, 2])
}

@Suite struct OmniModelTests {
    @Test func presetsBuildAndDescribeThemselves() throws {
        for name in OmniModelConfiguration.presetNames {
            let c = try #require(OmniModelConfiguration.preset(name))
            #expect(c.problems.isEmpty, "\(name): \(c.problems)")
            #expect(c.modalities == [.text, .image, .audio, .video, .signal])
            // JSON round trip
            let data = try JSONEncoder().encode(c)
            #expect(try JSONDecoder().decode(OmniModelConfiguration.self, from: data) == c)
        }
        #expect(OmniModelConfiguration.preset("huge") == nil)
        var bad = microConfiguration()
        bad.text?.dimension = 24
        bad.fusion.heads = 5
        #expect(bad.problems.contains { $0.contains("text.dimension is 24") })
        #expect(bad.problems.contains { $0.contains("fusion.heads 5") })
    }

    @Test func mixedBatchGivesShapesMasksAndGatesZeroForMissingModalities() {
        let model = OmniModel(microConfiguration(), generator: Generator(seed: 1))
        let out = model(mixedInput(), returnMaps: true)
        let gates = out.routed.gates.toArray()   // [3, 5] in Modality order of the given streams
        #expect(out.routed.modalities == [.text, .image, .audio, .video, .signal])
        #expect(gates[1 * 5 + 1] == 0 && gates[1 * 5 + 2] == 0, "sample 1 has no image or audio: gates \(gates[5..<10])")
        #expect(gates[2 * 5 + 3] == 0 && gates[2 * 5 + 4] == 0, "sample 2 has no video or signal: gates \(gates[10..<15])")
        #expect(gates.enumerated().allSatisfy { i, g in [6, 7, 13, 14].contains(i) || g > 0 })
        let n = out.fused.length
        #expect(out.fused.tokens.shape == [3, n, 16])
        #expect(out.segments.first?.range.lowerBound == 1 && out.segments.last?.range.upperBound == n)
        let mask = out.fused.mask.toBoolArray()
        let imageRange = out.segments.first { $0.modality == .image }!.range
        #expect(imageRange.allSatisfy { !mask[n + $0] }, "sample 1's image positions must be masked")
        #expect(out.pooled.shape == [3, 16])
        #expect(out.maps.count == 1 && out.maps[0][.text]?.weights.shape.prefix(2) == [3, 2])
        let embeddings = model.embeddings(out.encoded)
        for (m, e) in embeddings {
            #expect(e.shape == [3, 8])
            let norms = (e * e).sum(axis: 1).toArray()
            for (b, v) in norms.enumerated() where out.encoded[m]!.isPresent.toBoolArray()[b] { #expect(abs(v - 1) < 1e-5) }
        }
        #expect(model.classify(out).shape == [3, 3])
    }

    @Test func forwardBackwardReachesEveryTrainableParameter() {
        let model = OmniModel(microConfiguration(), generator: Generator(seed: 2))
        let input = mixedInput()
        let ids = Tensor([1, 3, 4, 5, 1, 6, 7, 8, 1, 9, 3, 2], shape: [3, 4], dtype: .int64)
        let targets = Tensor([3, 4, 5, 2, 6, 7, 8, 2, 9, 3, 2, -100], shape: [3, 4], dtype: .int64)
        let (_, grads) = valueAndGrad(model) { m in
            let out = m(input)
            let e = m.embeddings(out.encoded)
            // contrastive-style use of every projection, a classifier loss and the decoder loss
            let align = e.values.map { ($0 - e[.text]!).square().sum() }.reduce(Tensor(0), +) + e[.text]!.sum()
            let cls = Tensor.crossEntropy(logits: m.classify(out), targets: Tensor([0, 2, 1], shape: [3], dtype: .int64))
            let lm = m.decoder!.loss(ids, targets: targets, context: out.fused)
            return align + cls + lm
        }
        var missing: [String] = []
        for (path, p) in model.trainableParameters() {
            guard let g = grads[path], g.shape == p.shape, g.abs().sum().item() > 0 else { missing.append(path); continue }
        }
        #expect(missing.isEmpty, "no gradient for \(missing.count) parameters: \(missing.prefix(12))")
    }

    @Test func saveAndLoadReproduceOutputsBitExactly() throws {
        let model = OmniModel(microConfiguration(), generator: Generator(seed: 3))
        model.eval()
        let dir = FileManager.default.temporaryDirectory.appending(path: "omni-model-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(to: dir)
        let loaded = try OmniModel.load(from: dir)
        loaded.eval()
        #expect(loaded.configuration == model.configuration)
        let a = GradMode.withoutGrad { model(mixedInput()) }, b = GradMode.withoutGrad { loaded(mixedInput()) }
        #expect(a.fused.tokens.toArray() == b.fused.tokens.toArray())
        #expect(a.routed.gates.toArray() == b.routed.gates.toArray())
        // strict: an extra tensor or a missing one is refused, naming the key
        let weights = dir.appending(path: OmniModel.weightsFile).path
        var tensors = try SafeTensors.read(contentsOf: weights).tensors
        tensors.append((name: "stray.weight", tensor: Tensor([1, 2])))
        try SafeTensors.write(tensors, to: weights)
        #expect { _ = try OmniModel.load(from: dir) } throws: { "\($0)".contains("stray.weight") }
    }

    @Test func fixedFusionIsAvailableForAblation() {
        let model = OmniModel(microConfiguration(kind: .fixed), generator: Generator(seed: 4))
        let out = model(mixedInput())
        let g = out.routed.gates.toArray()
        #expect(abs(g[0] - g[10]) < 1e-7, "fixed gates do not depend on the sample: \(g[0]) vs \(g[10])")
        #expect(model.router.namedParameters().map(\.path) == ["fixed_logits"])
    }

    @Test func badConfigurationFilesNameTheKey() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "omni-badconfig-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appending(path: "config.json")
        try Data(#"{"name": "x", "dimension": 8}"#.utf8).write(to: url)
        #expect { _ = try OmniModelConfiguration.load(contentsOf: url) } throws: { "\($0)".contains("config.json") && "\($0)".contains("fusion") }
    }
}
