// MobileNetV2 against torchvision: logits of the real checkpoint on torchvision-preprocessed inputs,
// classification from the PNG files through Omni's own decode and preprocessing, the trunk's
// feature grid, batching, BatchNorm folding, strict loading, and one block against a Float64
// reference written out here.
import Foundation
import Testing
import OmniData
@testable import OmniModels
import OmniNN
@testable import OmniTensor

/// Tests/OmniModelsTests/Fixtures/mobilenet_v2 (see its README.md for how each file was made).
private let mobileNetFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/mobilenet_v2")

private func fixture(_ name: String) throws -> Tensor {
    try NPY.read(contentsOf: mobileNetFixtures.appendingPathComponent(name).path)
}

private func fixtureTop5(_ name: String) throws -> [Int] {
    struct Top5: Decodable { let top5: [Int] }
    return try JSONDecoder().decode(Top5.self, from: Data(contentsOf: mobileNetFixtures.appendingPathComponent(name))).top5
}

/// The asset at `relativePath`, or nil after recording a failure that says how to fetch it.
private func asset(_ relativePath: String, sourceLocation: SourceLocation = #_sourceLocation) -> URL? {
    let url = Assets.file(relativePath)
    if FileManager.default.fileExists(atPath: url.path) { return url }
    Issue.record("missing asset \(url.path): run scripts/fetch-assets (with OMNI_ASSETS set to the asset folder)",
                 sourceLocation: sourceLocation)
    return nil
}

private let checkpointPath = "mobilenet_v2/mobilenet_v2-b0353104.pth"

/// Loaded once: the checkpoint is 14 MB and the model is shared read-only by the tests.
private let pretrainedModel: MobileNetV2? = {
    let url = Assets.file(checkpointPath)
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    return try? MobileNetV2.pretrained(contentsOf: url)
}()

private func pretrained(sourceLocation: SourceLocation = #_sourceLocation) throws -> MobileNetV2? {
    guard let url = asset(checkpointPath, sourceLocation: sourceLocation) else { return nil }
    if let pretrainedModel { return pretrainedModel }
    return try MobileNetV2.pretrained(contentsOf: url)  // throws the real error
}

/// Largest |a − b| over all elements (shapes must agree).
private func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "maxDifference: \(a.shape) vs \(b.shape)")
    return zip(a.toArray(), b.toArray()).reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
}

private func top(_ k: Int, _ logits: Tensor) -> [Int] { logits.topK(k, axis: -1).indices.toIntArray() }

@Suite struct MobileNetV2Tests {
    // MARK: Parity with torchvision on the real checkpoint

    @Test(arguments: ["chelsea", "coffee"])
    func logitsMatchTorchvision(image: String) throws {
        guard let model = try pretrained() else { return }
        let x = try fixture("\(image)_input.npy")  // [1, 3, 224, 224]
        let reference = try fixture("\(image)_logits.npy").reshaped([1, 1000])
        let expectedTop5 = try fixtureTop5("\(image)_top5.json")

        let logits = GradMode.withoutGrad { model(x) }  // unfolded: conv, BN, ReLU6 as torchvision runs them
        let folded = model.folded()(x)
        for (name, y) in [("model", logits), ("folded", folded)] {
            #expect(y.shape == [1, 1000])
            let diff = maxDifference(y, reference)
            print("mobilenet_v2 \(image) \(name): max |logit - torchvision| = \(diff)")
            #expect(diff <= 1e-3, "\(image) \(name): max |logit - torchvision| = \(diff)")
            #expect(top(5, y) == expectedTop5, "\(image) \(name): top-5 \(top(5, y)) != torchvision's \(expectedTop5)")
        }
    }

    @Test func featureMapMatchesTorchvisionTrunk() throws {
        guard let model = try pretrained() else { return }
        let x = try fixture("chelsea_input.npy")
        let reference = try fixture("chelsea_features.npy")  // [1, 1280, 7, 7]
        for (name, grid) in [("model", GradMode.withoutGrad { model.featureMap(x) }), ("folded", model.folded().featureMap(x))] {
            #expect(grid.shape == [1, 1280, 7, 7])
            let diff = maxDifference(grid, reference)
            print("mobilenet_v2 chelsea \(name) feature map: max |Δ| = \(diff)")
            #expect(diff <= 1e-3, "\(name) feature map: max |Δ| = \(diff)")
        }
    }

    @Test func checkpointKeysAreTheModelKeys() throws {
        guard let url = asset(checkpointPath) else { return }
        let names = try TorchCheckpoint.read(contentsOf: url.path).names
        let model = MobileNetV2(generator: Generator(seed: 0))
        #expect(model.namedParameters().map(\.path) == names)  // same keys, in the same order
        #expect(names.contains("features.18.1.running_var") && names.contains("features.1.conv.0.0.weight"))
        #expect(model.parameterCount == 3_504_872)  // torchvision's documented size
    }

    // MARK: From the image files

    @Test(arguments: ["chelsea", "coffee"])
    func classifiesThePNGLikeTorchvision(image: String) throws {
        guard let model = try pretrained(), let png = asset("skimage/\(image).png") else { return }
        let classifier = ImageClassifier(model: model)
        let expectedTop5 = try fixtureTop5("\(image)_top5.json")

        // Omni's decode + resize + crop + normalisation against torchvision's on the same file.
        let input = try classifier.preprocess(imageAt: png)
        let torchvisionInput = try fixture("\(image)_input.npy")
        #expect(input.shape == [1, 3, 224, 224])
        let inputDiff = maxDifference(input, torchvisionInput)

        let predictions = try classifier.classify(imageAt: png, topK: 5)
        let indices = predictions.map(\.index)
        print("mobilenet_v2 \(image).png: preprocessing max |Δ| = \(inputDiff); top-5 \(indices) (torchvision \(expectedTop5))")
        #expect(inputDiff <= 1e-5, "preprocessing differs from torchvision's by \(inputDiff)")
        #expect(indices.first == expectedTop5.first, "top-1 \(indices) vs torchvision \(expectedTop5)")
        #expect(indices == expectedTop5)

        // Probabilities are the softmax of the logits, sorted.
        let probabilities = classifier.probabilities(input).toArray()
        for p in predictions { #expect(Swift.abs(p.probability - probabilities[p.index]) <= 1e-6) }
        #expect(zip(predictions, predictions.dropFirst()).allSatisfy { $0.probability >= $1.probability })
        #expect(Swift.abs(probabilities.reduce(0, +) - 1) <= 1e-4)
    }

    @Test func classifiesPreprocessedInput() throws {
        guard let weights = asset(checkpointPath) else { return }
        let classifier = try ImageClassifier(architecture: .mobileNetV2, weights: weights)
        let x = try fixture("coffee_input.npy")
        let predictions = classifier.classify(input: x, topK: 3)
        #expect(predictions.map(\.index) == Array(try fixtureTop5("coffee_top5.json").prefix(3)))
        // an unbatched [3, H, W] tensor is one image
        #expect(classifier.classify(input: x.squeezed(axis: 0), topK: 3) == predictions)
    }

    @Test func batchOfTwoEqualsTwoSingles() throws {
        guard let model = try pretrained() else { return }
        let a = try fixture("chelsea_input.npy"), b = try fixture("coffee_input.npy")
        let batch = Tensor.concatenated([a, b], axis: 0)  // [2, 3, 224, 224]
        let folded = model.folded()
        for (name, run) in [("model", { (x: Tensor) in GradMode.withoutGrad { model(x) } }),
                            ("folded", { (x: Tensor) in folded(x) })] {
            let together = run(batch)  // [2, 1000]
            let singles = Tensor.concatenated([run(a), run(b)], axis: 0)
            let diff = maxDifference(together, singles)
            #expect(diff <= 1e-4, "\(name): batch of 2 differs from two singles by \(diff)")
        }
    }

    @Test func benchmarkReportsConsistentTimings() {
        let model = MobileNetV2(MobileNetV2Configuration(widthMultiplier: 0.25, classCount: 10), generator: Generator(seed: 6))
        model.eval()
        let classifier = ImageClassifier(model: model, resizeSize: 40, cropSize: 32)
        let r = classifier.benchmark(batch: 3, runs: 3, warmup: 1)
        #expect(r.architecture == "mobilenet_v2" && r.batch == 3 && r.runs == 3 && r.threads == Threads.count)
        #expect(r.minimumMilliseconds > 0 && r.minimumMilliseconds <= r.medianMilliseconds && r.medianMilliseconds <= r.maximumMilliseconds)
        #expect(Swift.abs(r.imagesPerSecond - 3 / (r.medianMilliseconds / 1000)) <= 1e-9 * r.imagesPerSecond)
    }

    // MARK: Loading

    @Test func strictLoadListsEveryProblem() throws {
        let config = MobileNetV2Configuration(widthMultiplier: 0.25, classCount: 10)
        var weights = MobileNetV2(config, generator: Generator(seed: 1)).stateDict()
        weights["features.3.conv.1.0.weight"] = nil
        weights["features.19.0.weight"] = Tensor.zeros([4])
        weights["classifier.1.weight"] = Tensor.zeros([11, 1280])
        let model = MobileNetV2(config, generator: Generator(seed: 2))
        let before = model.stateDict()["features.0.0.weight"]!.toArray()
        do {
            try model.load(weights, file: "broken.pth")
            Issue.record("strict load accepted a broken state dict")
        } catch {
            #expect(error.missing == ["features.3.conv.1.0.weight"])
            #expect(error.unused == ["features.19.0.weight"])
            #expect(error.mismatched.map(\.key) == ["classifier.1.weight"])
            let message = error.description
            for part in ["broken.pth", "features.3.conv.1.0.weight", "features.19.0.weight", "classifier.1.weight", "[11, 1280]", "[10, 1280]"] {
                #expect(message.contains(part), "message lacks \(part): \(message)")
            }
        }
        // nothing was assigned
        #expect(model.stateDict()["features.0.0.weight"]!.toArray() == before)
    }

    @Test func realCheckpointRejectsAnotherClassCount() throws {
        guard let url = asset(checkpointPath) else { return }
        do {
            _ = try MobileNetV2.pretrained(contentsOf: url, configuration: MobileNetV2Configuration(classCount: 10))
            Issue.record("a 1000-class checkpoint loaded into a 10-class model")
        } catch let error as LoadError {
            #expect(error.missing.isEmpty && error.unused.isEmpty)
            #expect(error.mismatched.map(\.key).sorted() == ["classifier.1.bias", "classifier.1.weight"])
        }
    }

    // MARK: Architecture without assets

    @Test func widthMultiplierFollowsTorchvision() {
        // torchvision's channel counts for width 0.5 (stem 16, stages 8/16/16/32/48/80/160) and 1.4
        let half = MobileNetV2(MobileNetV2Configuration(widthMultiplier: 0.5, classCount: 7), generator: Generator(seed: 0))
        let shapes = Dictionary(uniqueKeysWithValues: half.namedParameters().map { ($0.path, $0.tensor.shape) })
        #expect(shapes["features.0.0.weight"] == [16, 3, 3, 3])
        #expect(shapes["features.1.conv.1.weight"] == [8, 16, 1, 1])
        #expect(shapes["features.17.conv.2.weight"] == [160, 480, 1, 1])
        #expect(shapes["features.18.0.weight"] == [1280, 160, 1, 1])
        #expect(shapes["classifier.1.weight"] == [7, 1280])
        let wide = MobileNetV2Configuration(widthMultiplier: 1.4)
        #expect(wide.stemChannels == 48 && wide.lastChannels == 1792)
        #expect(wide.divisible(24 * 1.4) == 32 && wide.divisible(320 * 1.4) == 448)
    }

    @Test func configurationRoundTripsThroughJSON() throws {
        let config = MobileNetV2Configuration(widthMultiplier: 0.75, classCount: 10, dropout: 0.1)
        let decoded = try JSONDecoder().decode(MobileNetV2Configuration.self, from: JSONEncoder().encode(config))
        #expect(decoded == config)
    }

    @Test(arguments: testSeeds)
    func foldedEqualsUnfoldedWithRealStatistics(seed: UInt64) {
        let model = MobileNetV2(MobileNetV2Configuration(widthMultiplier: 0.25, classCount: 10), generator: Generator(seed: seed))
        randomizeNormalization(model, seed: seed)
        model.eval()
        let x = randomTensor([2, 3, 40, 48], seed: seed)  // a non-square size: odd grids after the strides
        let expected = GradMode.withoutGrad { model(x) }
        let folded = model.folded()
        expectClose(folded(x), values(expected), shape: [2, 10], atol: 1e-4, rtol: 1e-4, "folded logits")
        for size in [1, 2] {  // the batch in pieces or whole
            var split = folded
            split.microBatchSize = size
            expectClose(split(x), values(expected), shape: [2, 10], atol: 1e-4, rtol: 1e-4, "micro-batches of \(size)")
        }
        let grid = GradMode.withoutGrad { model.featureMap(x) }
        #expect(grid.shape == [2, 1280, 2, 2])
        expectClose(folded.featureMap(x), values(grid), atol: 1e-4, rtol: 1e-4, "folded feature map")
    }

    @Test func foldedRunsConcurrentlyAndOnManySizes() async {
        let model = MobileNetV2(MobileNetV2Configuration(widthMultiplier: 0.25, classCount: 10), generator: Generator(seed: 4))
        randomizeNormalization(model, seed: 4)
        model.eval()
        let folded = model.folded()
        // more input sizes than the packs kept per convolution: evicted ones are re-made correctly
        let sizes = (0..<(PackedConvolutions.capacity + 2)).map { 32 + 8 * $0 }
        let inputs = sizes.map { randomTensor([1, 3, $0, $0], seed: UInt64($0)) }
        let expected = inputs.map { x in GradMode.withoutGrad { model(x) } }
        let results = await withTaskGroup(of: (Int, Tensor).self) { group in
            for round in 0..<2 {
                for (i, x) in inputs.enumerated() { group.addTask { (i + round * inputs.count, folded(x)) } }
            }
            var out: [Int: Tensor] = [:]
            for await (i, y) in group { out[i] = y }
            return out
        }
        for (i, y) in results.sorted(by: { $0.key < $1.key }) {
            expectClose(y, values(expected[i % inputs.count]), shape: [1, 10], atol: 1e-4, rtol: 1e-4,
                        "size \(sizes[i % inputs.count]) run \(i)")
        }
        #expect(folded.blocks[0].layers[0].packs.count <= PackedConvolutions.capacity)
    }

    /// Cached oneDNN primitives run on several threads at once must not share a scratchpad
    /// (dnnl_glue.c gives each calling thread its own): the unfolded model's im2col convolutions
    /// and the folded model's packed ones, from many tasks, equal a serial run.
    @Test func concurrentForwardPassesMatchSerialOnes() async {
        let model = MobileNetV2(MobileNetV2Configuration(widthMultiplier: 0.5, classCount: 10), generator: Generator(seed: 5))
        randomizeNormalization(model, seed: 5)
        model.eval()
        let folded = model.folded()
        let inputs = (0..<4).map { randomTensor([1, 3, 96, 96], seed: UInt64(50 + $0)) }
        let serial = inputs.map { x in GradMode.withoutGrad { model(x) } }
        let results = await withTaskGroup(of: (Int, Tensor, Tensor).self) { group in
            for i in 0..<16 {
                group.addTask { (i, GradMode.withoutGrad { model(inputs[i % 4]) }, folded(inputs[i % 4])) }
            }
            var out: [(Int, Tensor, Tensor)] = []
            for await r in group { out.append(r) }
            return out
        }
        for (i, unfolded, fast) in results {
            #expect(unfolded.toArray() == serial[i % 4].toArray(), "task \(i): concurrent unfolded run differs from the serial one")
            expectClose(fast, values(serial[i % 4]), atol: 1e-4, rtol: 1e-4, "task \(i): concurrent folded run")
        }
    }

    @Test func trainingModeUsesBatchStatisticsAndDropout() {
        let model = MobileNetV2(MobileNetV2Configuration(widthMultiplier: 0.25, classCount: 10), generator: Generator(seed: 3))
        let x = randomTensor([2, 3, 32, 32], seed: 3)
        model.train()
        let (loss, grads) = valueAndGrad(model) { m in m(x).square().mean() }
        #expect(loss.item().isFinite)
        #expect(grads.count == model.trainableParameters().count)
        #expect(grads["features.0.0.weight"].map { $0.abs().sum().item() > 0 } == true)
        // the training pass updated the running statistics of the stem's BatchNorm
        let stem = model.features[0] as! MobileNetV2.ConvNormActivation
        #expect(stem.norm.runningMean.abs().sum().item() > 0)
        #expect(stem.norm.batchesTracked.toIntArray() == [1])
    }

    /// One inverted residual block (expansion 2, stride 1, residual; and stride 2 without) in eval
    /// mode against a Float64 loop reference: 1×1 conv, BN, ReLU6, depthwise 3×3, BN, ReLU6, 1×1
    /// conv, BN, + x.
    @Test(arguments: testSeeds)
    func invertedResidualMatchesFloat64Reference(seed: UInt64) {
        for stride in [1, 2] {
            let (c, hidden, h, w) = (4, 8, 5, 6)
            let block = MobileNetV2.InvertedResidual(c, c, stride: stride, expansionFactor: 2, epsilon: 1e-5,
                                                     generator: Generator(seed: seed))
            randomizeNormalization(block, seed: seed)
            block.eval()
            let x = randomTensor([1, c, h, w], seed: seed)
            let y = GradMode.withoutGrad { block(nonContiguous(x)) }

            let p = Dictionary(uniqueKeysWithValues: block.namedParameters().map { ($0.path, values($0.tensor)) })
            func bn(_ v: [Double], _ prefix: String, _ channels: Int, _ plane: Int) -> [Double] {
                let (g, b, m, s) = (p[prefix + ".weight"]!, p[prefix + ".bias"]!, p[prefix + ".running_mean"]!, p[prefix + ".running_var"]!)
                return v.indices.map { i in let k = i / plane; return (v[i] - m[k]) / (s[k] + 1e-5).squareRoot() * g[k] + b[k] }
            }
            func relu6(_ v: [Double]) -> [Double] { v.map { Swift.min(Swift.max($0, 0), 6) } }
            func pointwise(_ v: [Double], _ wts: [Double], _ cin: Int, _ cout: Int, _ plane: Int) -> [Double] {
                var out = [Double](repeating: 0, count: cout * plane)
                for o in 0..<cout { for i in 0..<cin { for q in 0..<plane { out[o * plane + q] += wts[o * cin + i] * v[i * plane + q] } } }
                return out
            }
            let (oh, ow) = ((h - 1) / stride + 1, (w - 1) / stride + 1)
            func depthwise(_ v: [Double], _ wts: [Double]) -> [Double] {
                var out = [Double](repeating: 0, count: hidden * oh * ow)
                for ch in 0..<hidden { for r in 0..<oh { for q in 0..<ow {
                    var s = 0.0
                    for i in 0..<3 { for j in 0..<3 {
                        let (yy, xx) = (r * stride + i - 1, q * stride + j - 1)
                        if yy >= 0 && yy < h && xx >= 0 && xx < w { s += wts[ch * 9 + i * 3 + j] * v[(ch * h + yy) * w + xx] }
                    } }
                    out[(ch * oh + r) * ow + q] = s
                } } }
                return out
            }
            var e = relu6(bn(pointwise(values(x), p["conv.0.0.weight"]!, c, hidden, h * w), "conv.0.1", hidden, h * w))
            e = relu6(bn(depthwise(e, p["conv.1.0.weight"]!), "conv.1.1", hidden, oh * ow))
            e = bn(pointwise(e, p["conv.2.weight"]!, hidden, c, oh * ow), "conv.3", c, oh * ow)
            if stride == 1 { e = zip(e, values(x)).map { $0 + $1 } }
            #expect(block.isResidual == (stride == 1))
            expectClose(y, e, shape: [1, c, oh, ow], atol: 1e-4, rtol: 1e-4, "inverted residual, stride \(stride)")
            let folded = MobileNetV2.fold(block.projection, block.projectionNorm, clampsToSix: false)
            #expect(folded.weight.shape == [c, hidden, 1, 1] && folded.bias.shape == [c])
        }
    }

    @Test func featureMapRejectsNonRGBInput() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let model = MobileNetV2(MobileNetV2Configuration(widthMultiplier: 0.25, classCount: 2), generator: Generator(seed: 0))
            _ = model.featureMap(Tensor.zeros([1, 4, 32, 32]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("input must be [B, 3, H, W], got [1, 4, 32, 32]"), "stderr was: \(stderr)")
    }
}

/// Random γ, β, running mean and variance for every BatchNorm, so folding and eval mode are
/// exercised with non-trivial statistics.
private func randomizeNormalization(_ module: Module, seed: UInt64) {
    let g = Generator(seed: seed &+ 1000)
    var values: [String: Tensor] = [:]
    for (path, t) in module.namedParameters() {
        if path.hasSuffix("running_var") { values[path] = Tensor.uniform(t.shape, low: 0.5, high: 2, generator: g) }
        else if path.hasSuffix("running_mean") { values[path] = Tensor.uniform(t.shape, low: -0.5, high: 0.5, generator: g) }
        else if t.rank == 1 && !path.hasPrefix("classifier") {
            values[path] = Tensor.uniform(t.shape, low: path.hasSuffix("weight") ? 0.5 : -0.5, high: path.hasSuffix("weight") ? 1.5 : 0.5, generator: g)
        }
    }
    module.update(values)
}
