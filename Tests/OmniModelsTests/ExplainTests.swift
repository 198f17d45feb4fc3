// Explanations: the ViT's per-block attention weights, attention rollout against a Float64
// reference built from them, the co-attention map against a Float64 reference built from the
// fusion's maps, hand-set models whose attention goes to one bright patch, heatmap rendering
// (bilinear upsampling, normalisation, colour map, blending) and the shared image preprocessing.
import Foundation
import OmniData
import Testing
@testable import OmniModels
@testable import OmniNN
@testable import OmniTensor

/// A ViT small enough for Float64 references: 16 px images in 4 px patches (4×4 grid), 3 blocks.
private func tinyViT(seed: UInt64 = 11) -> VisionTransformer {
    let c = VisionTransformerConfiguration(imageSize: 16, patchSize: 4, dimension: 16, depth: 3, heads: 2,
                                           mlpHiddenSize: 32, classCount: 0)
    let vit = VisionTransformer(c, generator: Generator(seed: seed))
    vit.eval()
    return vit
}

/// Row-major n×n matrix product in Float64.
private func matmul(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
    var out = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for k in 0..<n { for j in 0..<n { out[i * n + j] += a[i * n + k] * b[k * n + j] } } }
    return out
}

/// The full rollout matrix R = Â_L · … · Â_1 for one sample, straight from the definition.
private func referenceRollout(_ attention: [Tensor], sample: Int, count n: Int, fuse: AttentionRollout.HeadFusion = .mean) -> [Double] {
    var r: [Double]? = nil
    for a in attention {
        let (heads, total) = (a.shape[1], a.shape[2])
        let w = values(a)
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                let perHead = (0..<heads).map { h in w[((sample * heads + h) * total + i) * total + j] }
                m[i * n + j] = fuse == .mean ? perHead.reduce(0, +) / Double(heads) : perHead.max()!
            }
        }
        for i in 0..<n { m[i * n + i] += 1 }
        for i in 0..<n {
            let s = (0..<n).reduce(0.0) { $0 + m[i * n + $1] }
            for j in 0..<n { m[i * n + j] /= s }
        }
        r = r.map { matmul(m, $0, n) } ?? m        // later blocks multiply from the left
    }
    return r!
}

private func expectDoubles(_ got: [Double], _ expected: [Double], atol: Double, _ what: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.count == expected.count, "\(what): \(got.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    var worst = 0.0, at = -1
    for (i, (g, e)) in zip(got, expected).enumerated() where abs(g - e) > worst { worst = abs(g - e); at = i }
    #expect(worst <= atol, "\(what): largest difference \(worst) at \(at) (got \(at >= 0 ? got[at] : 0), expected \(at >= 0 ? expected[at] : 0))",
            sourceLocation: sourceLocation)
}

/// An image-and-text model (32 px images in 8 px patches: a 4×4 grid) for end-to-end checks.
private func explainConfiguration(fusionDepth: Int = 2) -> OmniModelConfiguration {
    let d = 16, heads = 2
    let vit = VisionTransformerConfiguration(imageSize: 32, patchSize: 8, dimension: d, depth: 2, heads: heads,
                                             mlpHiddenSize: 32, classCount: 0)
    return OmniModelConfiguration(
        name: "explain", dimension: d,
        text: .rotary(vocabSize: 40, dimension: d, layers: 1, heads: heads, maxLength: 16),
        image: ImageEncoderConfiguration(backbone: .vit(vit), dimension: d),
        fusion: FusionConfiguration(kind: .dynamic, depth: fusionDepth, heads: heads),
        heads: HeadsConfiguration(embeddingDimension: 8),
        tasks: ["image_captioning", "visual_question_answering"])
}

/// A black 32×32 picture with one white 8×8 patch at grid cell (`row`, `column`).
private func brightPatchImage(row: Int, column: Int) -> Image {
    var pixels = [UInt8](repeating: 0, count: 32 * 32 * 3)
    for y in (row * 8)..<(row * 8 + 8) { for x in (column * 8)..<(column * 8 + 8) { for c in 0..<3 { pixels[(y * 32 + x) * 3 + c] = 255 } } }
    return Image(width: 32, height: 32, channels: 3, pixels: pixels)
}

/// Hand-set weights under which every query attends to the brightest patch.
///
/// The patch embedding writes each patch's red sum into channels 0 and 8 (the first channel of
/// each 8-wide head); positions, class token and modality embeddings are zero, and the blocks'
/// output projections and MLPs are zero, so each token stays LN(its embedding): +√7 on channels
/// 0 and 8 for the white patch, −√7 for black ones, 0 for the class token. Queries are a constant
/// c on channels 0 and 8 and keys the normalised tokens themselves, so the white patch scores
/// c·√7/√8 ≈ 37 in every head and the others at most 0. The image encoder's projection and the
/// text stream's cross-attention are set the same way (the image stream's co-attention updates
/// zeroed), so the text looks at the white patch too.
private func forceAttentionToBrightPatch(_ model: OmniModel) {
    let d = 16, c: Float = 40
    var marker = [Float](repeating: 0, count: d)
    marker[0] = c; marker[8] = c
    let identity = Tensor.eye(d)
    var patch = [Float](repeating: 0, count: d * 3 * 8 * 8)
    for o in [0, 8] { for k in 0..<64 { patch[o * 192 + k] = 1 } }            // red channel of the patch
    var values: [String: Tensor] = [
        "image_encoder.backbone.patch_embed.proj.weight": Tensor(patch, shape: [d, 3, 8, 8]),
        "image_encoder.backbone.patch_embed.proj.bias": Tensor.zeros([d]),
        "image_encoder.backbone.cls_token": Tensor.zeros([1, 1, d]),
        "image_encoder.backbone.pos_embed": Tensor.zeros([1, 17, d]),
        "image_encoder.projection.weight": identity, "image_encoder.projection.bias": Tensor.zeros([d]),
        "modality_embed.weight": Tensor.zeros([Modality.allCases.count, d]),
    ]
    for b in 0..<2 {
        let p = "image_encoder.backbone.blocks.\(b)."
        values[p + "self_attn.q_proj.weight"] = Tensor.zeros([d, d]); values[p + "self_attn.q_proj.bias"] = Tensor(marker)
        values[p + "self_attn.k_proj.weight"] = identity; values[p + "self_attn.k_proj.bias"] = Tensor.zeros([d])
        values[p + "self_attn.out_proj.weight"] = Tensor.zeros([d, d]); values[p + "self_attn.out_proj.bias"] = Tensor.zeros([d])
        values[p + "mlp.fc2.weight"] = Tensor.zeros([d, 32]); values[p + "mlp.fc2.bias"] = Tensor.zeros([d])
    }
    for l in 0..<model.coAttention.depth {
        let p = "co_attention.layers.\(l).streams.text.cross_attn."
        values[p + "q_proj.weight"] = Tensor.zeros([d, d]); values[p + "q_proj.bias"] = Tensor(marker)
        values[p + "k_proj.weight"] = identity; values[p + "k_proj.bias"] = Tensor.zeros([d])
        // the image stream passes through unchanged, so later blocks see the same keys
        let image = "co_attention.layers.\(l).streams.image."
        values[image + "cross_attn.out_proj.weight"] = Tensor.zeros([d, d]); values[image + "cross_attn.out_proj.bias"] = Tensor.zeros([d])
        values[image + "mlp.fc2.weight"] = Tensor.zeros([d, 4 * d]); values[image + "mlp.fc2.bias"] = Tensor.zeros([d])
    }
    model.update(values)
}

@Suite struct ExplainTests {
    // MARK: Attention weights from the ViT

    @Test func vitReturnsEachBlocksAttentionWithoutChangingItsStates() {
        let vit = tinyViT()
        let images = randomTensor([2, 3, 16, 16], seed: 5)
        let plain = GradMode.withoutGrad { vit.features(images) }
        let (states, attention) = GradMode.withoutGrad { vit.features(images, returnAttention: true) }
        #expect(states.toArray() == plain.toArray(), "asking for the weights must not change the states")
        #expect(attention.count == 3 && attention.allSatisfy { $0.shape == [2, 2, 17, 17] })
        #expect(GradMode.withoutGrad { vit.features(images, returnAttention: false) }.attention.isEmpty)

        // block 0's weights from scratch in Float64: softmax(LN(x)Wq · (LN(x)Wk)ᵀ / √8)
        let x = values(GradMode.withoutGrad { vit.embed(images) })            // [2, 17, 16]
        let block = vit.blocks[0]
        let norm = block.norm1 as! LayerNorm
        let (gamma, beta) = (values(norm.weight!), values(norm.bias!))
        let (wq, bq) = (values(block.attention.queryProjection.weight), values(block.attention.queryProjection.bias!))
        let (wk, bk) = (values(block.attention.keyProjection.weight), values(block.attention.keyProjection.bias!))
        var expected: [Double] = []
        for b in 0..<2 {
            var q = [[Double]](), k = [[Double]]()
            for t in 0..<17 {
                let row = Array(x[((b * 17 + t) * 16)..<((b * 17 + t) * 16 + 16)])
                let mean = row.reduce(0, +) / 16
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 16
                let h = row.enumerated().map { i, v in (v - mean) / (variance + 1e-6).squareRoot() * gamma[i] + beta[i] }
                func project(_ w: [Double], _ bias: [Double]) -> [Double] {
                    (0..<16).map { (o: Int) -> Double in
                        var s = bias[o]
                        for i in 0..<16 { s += h[i] * w[o * 16 + i] }
                        return s
                    }
                }
                q.append(project(wq, bq))
                k.append(project(wk, bk))
            }
            for head in 0..<2 {
                for i in 0..<17 {
                    let scores = (0..<17).map { (j: Int) -> Double in
                        var s = 0.0
                        for c in (head * 8)..<(head * 8 + 8) { s += q[i][c] * k[j][c] }
                        return s / 8.0.squareRoot()
                    }
                    let top = scores.max()!
                    let e = scores.map { exp($0 - top) }
                    let sum = e.reduce(0, +)
                    expected += e.map { $0 / sum }
                }
            }
        }
        expectClose(attention[0], expected, shape: [2, 2, 17, 17], atol: 1e-5, rtol: 1e-4, "block 0 attention")
    }

    // MARK: Rollout

    @Test func rolloutMatchesAFloat64ReferenceBuiltFromTheWeights() {
        let vit = tinyViT()
        let images = randomTensor([2, 3, 16, 16], seed: 6)
        let attention = GradMode.withoutGrad { vit.features(images, returnAttention: true) }.attention
        for sample in 0..<2 {
            let r = referenceRollout(attention, sample: sample, count: 17)
            let fromClass = AttentionRollout(source: .classToken)
                .relevance(attention: attention, sample: sample, prefixTokens: 1, gridHeight: 4, gridWidth: 4)
            expectDoubles(fromClass.values, Array(r[1..<17]), atol: 1e-12, "class-token rollout, sample \(sample)")
            let meanRow = (0..<17).map { j in (0..<17).reduce(0.0) { $0 + r[$1 * 17 + j] } / 17 }
            let fromMean = AttentionRollout(source: .meanOfTokens)
                .relevance(attention: attention, sample: sample, prefixTokens: 1, gridHeight: 4, gridWidth: 4)
            expectDoubles(fromMean.values, Array(meanRow[1...]), atol: 1e-12, "mean-of-tokens rollout, sample \(sample)")
            // each row of R is a distribution over the input tokens
            let whole = AttentionRollout().tokenRelevance(attention: attention, sample: sample)
            #expect(abs(whole.reduce(0, +) - 1) < 1e-12)
        }
        let rMax = referenceRollout(attention, sample: 1, count: 17, fuse: .max)
        let fromMax = AttentionRollout(source: .classToken, headFusion: .max)
            .relevance(attention: attention, sample: 1, prefixTokens: 1, gridHeight: 4, gridWidth: 4)
        expectDoubles(fromMax.values, Array(rMax[1..<17]), atol: 1e-12, "max-head rollout")
    }

    @Test func rolloutOfIdentityOrUniformAttentionIsUniform() {
        let n = 17, depth = 3
        let eye = Tensor.eye(n).reshaped([1, 1, n, n]).expanded(to: [1, 2, n, n]).contiguous()
        let identity = [Tensor](repeating: eye, count: depth)
        let mean = AttentionRollout(source: .meanOfTokens).relevance(attention: identity, prefixTokens: 1, gridHeight: 4, gridWidth: 4)
        #expect(mean.values.allSatisfy { abs($0 - 1 / Double(n)) < 1e-15 }, "\(mean.values)")
        let cls = AttentionRollout(source: .classToken).relevance(attention: identity, prefixTokens: 1, gridHeight: 4, gridWidth: 4)
        #expect(cls.values.allSatisfy { $0 == 0 }, "the class token only keeps itself: \(cls.values)")
        // uniform attention: v ← ½v + ½/n per block, so every patch gets (1 − 2^−L)/n
        let uniform = [Tensor](repeating: Tensor.full([1, 2, n, n], 1 / Float(n)), count: depth)
        let u = AttentionRollout(source: .classToken).relevance(attention: uniform, prefixTokens: 1, gridHeight: 4, gridWidth: 4)
        let expected = (1 - pow(0.5, Double(depth))) / Double(n)
        #expect(u.values.allSatisfy { abs($0 - expected) < 1e-8 }, "\(u.values) vs \(expected)")
    }

    @Test func imageEncoderAttentionIgnoresPaddingAndMissingImages() {
        var config = ImageEncoderConfiguration(backbone: .vit(VisionTransformerConfiguration(
            imageSize: 16, patchSize: 4, dimension: 16, depth: 2, heads: 2, mlpHiddenSize: 32, classCount: 0)), dimension: 16)
        config.modalityTags = false
        let encoder = ImageEncoder(config, generator: Generator(seed: 3))
        encoder.eval()
        let a = randomTensor([3, 16, 16], seed: 7), b = randomTensor([3, 16, 24], seed: 8)
        let (tokens, attention) = GradMode.withoutGrad { encoder(ImageBatch(images: [a, nil, b]), returnAttention: true) }
        #expect(tokens.length == 25 && attention.count == 2 && attention[0].shape == [3, 2, 25, 25])
        #expect(attention.allSatisfy { $0.narrowed(axis: 0, start: 1, length: 1).abs().max().item() == 0 }, "no image, no weights")
        let alone = GradMode.withoutGrad { encoder(ImageBatch(images: [a]), returnAttention: true) }.attention
        let rollout = AttentionRollout()
        let padded = rollout.relevance(attention: attention, sample: 0, prefixTokens: 1, gridHeight: 4, gridWidth: 4)
        let single = rollout.relevance(attention: alone, sample: 0, prefixTokens: 1, gridHeight: 4, gridWidth: 4)
        expectDoubles(padded.values, single.values, atol: 1e-6, "padding must not change the rollout")
        let grid = encoder.tokenGrid(height: 16, width: 24)
        #expect(grid == (1, 4, 6))
        #expect(rollout.tokenRelevance(attention: attention, sample: 2).reduce(0, +) > 0.999_999)
    }

    @Test func attentionForcedToOnePatchPeaksThereForBothMethods() throws {
        let model = OmniModel(explainConfiguration(), generator: Generator(seed: 9))
        forceAttentionToBrightPatch(model)
        model.eval()
        for (row, column) in [(2, 1), (0, 3)] {
            let x = ImagePreprocessing.modelInput(brightPatchImage(row: row, column: column), for: model.configuration.image!)
            let rollout = try model.explainImage(x, task: 0, method: .rollout)
            #expect(rollout.relevance.height == 4 && rollout.relevance.width == 4)
            #expect(rollout.relevance.peak == (row, column), "rollout peak \(rollout.relevance.peak), expected (\(row), \(column))")
            // with two blocks that both send everything to the bright token: R's class row is ¼ cls + ¾ bright
            #expect(abs(rollout.relevance[row, column] - 0.75) < 1e-4, "\(rollout.relevance.values)")
            #expect(rollout.gates.keys.sorted() == [.image])
            let co = try model.explainImage(x, text: [1, 5, 7], task: 1, method: .coattention)
            #expect(co.relevance.peak == (row, column), "co-attention peak \(co.relevance.peak)")
            #expect(co.relevance[row, column] > 0.99, "the text's attention is on the bright patch: \(co.relevance.values)")
            #expect(co.gates.keys.sorted() == [.text, .image] && co.gates.values.allSatisfy { $0 > 0 && $0 < 1 })
        }
    }

    // MARK: Co-attention map

    @Test func coAttentionMapMatchesAFloat64ReferenceFromTheMaps() throws {
        let model = OmniModel(explainConfiguration(fusionDepth: 2), generator: Generator(seed: 4))
        model.eval()
        let text = TextEncoder.Batch(sequences: [[1, 2, 3, 4, 5], [6, 7]])
        let images = ImageBatch(images: [randomTensor([3, 32, 32], seed: 1), randomTensor([3, 16, 24], seed: 2)])
        let out = GradMode.withoutGrad { model(OmniInput(text: text, image: images, tasks: [0, 1]), returnMaps: true) }
        let mask = out.encoded[.text]!.mask
        for (sample, grid) in [(0, (4, 4)), (1, (2, 3))] {
            let map = try CoAttentionExplanation().relevance(maps: out.maps, queryMask: mask, sample: sample, prefixTokens: 1,
                                                             gridHeight: grid.0, gridWidth: grid.1)
            let queries = sample == 0 ? 5 : 2
            var expected = [Double](repeating: 0, count: grid.0 * grid.1)
            for block in out.maps {
                let m = block[.text]!
                let start = m.segments.first { $0.modality == .image }!.range.lowerBound
                let (h, nq, nk) = (m.weights.shape[1], m.weights.shape[2], m.weights.shape[3])
                let w = values(m.weights)
                for p in expected.indices {
                    var s = 0.0
                    for head in 0..<h { for q in 0..<queries { s += w[((sample * h + head) * nq + q) * nk + start + 1 + p] } }
                    expected[p] += s / Double(h * queries) / Double(out.maps.count)
                }
            }
            expectDoubles(map.values, expected, atol: 1e-9, "co-attention map, sample \(sample)")
        }
        #expect(throws: ExplanationError.self) {
            try CoAttentionExplanation().relevance(maps: [], queryMask: mask, prefixTokens: 1, gridHeight: 4, gridWidth: 4)
        }
        #expect(throws: ExplanationError.self) {
            try CoAttentionExplanation(queryModality: .audio).relevance(maps: out.maps, queryMask: mask, prefixTokens: 1, gridHeight: 4, gridWidth: 4)
        }
    }

    @Test func explainImageRefusesWhatItCannotExplain() throws {
        let model = OmniModel(explainConfiguration(fusionDepth: 0), generator: Generator(seed: 2))
        model.eval()
        let x = randomTensor([3, 32, 32], seed: 3)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        #expect(message { _ = try model.explainImage(x, task: 0, method: .coattention) }.contains("needs a text prompt"))
        #expect(message { _ = try model.explainImage(x, text: [1], task: 0, method: .coattention) }.contains("fusion.depth 0"))
        #expect(message { _ = try model.explainImage(x, text: [1, 99], task: 0) }.contains("token id 99"))
        #expect(message { _ = try model.explainImage(x, task: 7) }.contains("task index 7"))
        #expect(message { _ = try model.explainImage(randomTensor([1, 32, 32], seed: 1), task: 0) }.contains("[3, H, W]"))
        #expect(message { _ = try model.explainImage(x, task: 0, rollout: AttentionRollout(source: .classToken)) } == "")

        var swin = explainConfiguration()
        swin.image = ImageEncoderConfiguration(backbone: .swin(SwinTransformerConfiguration(
            patchSize: 4, embedDimension: 8, depths: [1, 1], heads: [1, 2], windowSize: 2, classCount: 0)), dimension: 16)
        let swinModel = OmniModel(swin, generator: Generator(seed: 1))
        #expect(message { _ = try swinModel.explainImage(x, task: 0, method: .rollout) }.contains("needs a ViT"))
        // the co-attention map works for a grid without a class token
        let co = try swinModel.explainImage(x, text: [1, 2], task: 0, method: .coattention)
        #expect(co.relevance.height == 4 && co.relevance.width == 4 && co.relevance.values.allSatisfy { $0 > 0 })
    }

    @Test func tinyPresetExplainsADemoScene() throws {
        let model = OmniModel(.preset("tiny")!, generator: Generator(seed: 0))
        model.eval()
        let scene = ShapeScene.render(SceneSpec(shape: .circle, color: .red, size: .large, count: 1), side: 64, generator: Generator(seed: 1))
        let x = ImagePreprocessing.modelInput(scene, for: model.configuration.image!)
        #expect(x.shape == [3, 64, 64])
        let e = try model.explainImage(x, text: [5, 6, 7], task: model.taskIndex("image_captioning") ?? 0, method: .rollout)
        #expect(e.relevance.height == 8 && e.relevance.width == 8)
        let total = e.relevance.values.reduce(0, +)
        #expect(total > 0 && total < 1, "the class token keeps part of the relevance: \(total)")
        let co = try model.explainImage(x, text: [5, 6, 7], task: 0, method: .coattention)
        #expect(co.relevance.values.count == 64 && co.gates.count == 2)
    }

    // MARK: Heatmap

    @Test func bilinearUpsamplingUsesHalfPixelCentres() {
        // PyTorch: F.interpolate([[0, 1], [2, 3]], size=(4, 4), mode="bilinear", align_corners=False)
        let map = RelevanceMap(height: 2, width: 2, values: [0, 1, 2, 3])
        let expected: [Double] = [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]
        expectDoubles(Heatmap.upsampled(map, width: 4, height: 4), expected, atol: 1e-15, "2×2 → 4×4")
        let heatmap = Heatmap(map, width: 4, height: 4)
        expectDoubles(heatmap.values.map(Double.init), expected.map { $0 / 3 }, atol: 1e-7, "normalised")
        // non-square, shrinking in one axis: a 1×3 row to 2×2
        expectDoubles(Heatmap.upsampled(RelevanceMap(height: 1, width: 3, values: [0, 3, 6]), width: 2, height: 2),
                      [0.75, 5.25, 0.75, 5.25], atol: 1e-12, "1×3 → 2×2")
        #expect(Heatmap(RelevanceMap(height: 2, width: 2, values: [5, 5, 5, 5]), width: 3, height: 3).values.allSatisfy { $0 == 0 })
        #expect(Heatmap(RelevanceMap(height: 1, width: 2, values: [.nan, 2]), width: 2, height: 1).values == [0, 1])
    }

    @Test func theMostRelevantCellGetsTheHotColour() {
        var v = [Double](repeating: 0.1, count: 12)
        v[1 * 4 + 2] = 0.9
        v[2 * 4 + 0] = 0.0
        let map = RelevanceMap(height: 3, width: 4, values: v)
        #expect(map.peak == (1, 2))
        let heatmap = Heatmap(map, width: 16, height: 12)                        // 4×4 pixels per cell
        let hottest = heatmap.values.indices.max { heatmap.values[$0] < heatmap.values[$1] }!
        let (hy, hx) = (hottest / 16, hottest % 16)
        #expect((4..<8).contains(hy) && (8..<12).contains(hx), "hottest pixel (\(hx), \(hy)) must lie in cell (1, 2)")
        #expect(heatmap.values[hottest] == 1)
        let colored = heatmap.colored(.ember)
        let hot = ColorMap.ember.color(1), cold = ColorMap.ember.color(0)
        #expect(hot == (252, 255, 164) && cold == (0, 0, 4))
        #expect((colored[x: hx, y: hy, channel: 0], colored[x: hx, y: hy, channel: 1], colored[x: hx, y: hy, channel: 2]) == (252, 255, 164))
        let coldest = heatmap.values.indices.min { heatmap.values[$0] < heatmap.values[$1] }!
        #expect(coldest / 16 >= 8 && coldest % 16 < 4, "coldest pixel lies in cell (2, 0)")
        #expect(colored[x: coldest % 16, y: coldest / 16, channel: 2] == 4)

        // blending: round((1 − α)·image + α·colour), per sample
        let base = Image(width: 16, height: 12, channels: 3, pixels: (0..<(16 * 12)).flatMap { i in [UInt8(i % 256), 50, 200] })
        for alpha: Float in [0, 0.25, 1] {
            let overlay = heatmap.overlaid(on: base, colorMap: .ember, opacity: alpha)
            var worst = 0
            for i in 0..<(16 * 12 * 3) {
                let expected = Int(((1 - Double(alpha)) * Double(base.samples8![i]) + Double(alpha) * Double(colored.samples8![i])).rounded())
                worst = max(worst, abs(Int(overlay.samples8![i]) - expected))
            }
            #expect(worst == 0, "opacity \(alpha): blend off by \(worst)")
        }
        // a gray 16-bit image is blended as 8-bit RGB
        let gray = Image(width: 16, height: 12, channels: 1, pixels: [UInt16](repeating: 257 * 80, count: 16 * 12))
        #expect(heatmap.overlaid(on: gray, opacity: 0).samples8! == [UInt8](repeating: 80, count: 16 * 12 * 3))
    }

    @Test func emberRisesSteadilyInLuminance() {
        let t = ColorMap.ember.table
        #expect(t.count == 768)
        #expect(Array(t[0..<3]) == [0, 0, 4] && Array(t[765...]) == [252, 255, 164])
        // relative luminance (linear-light Rec. 709 weights), computed here independently
        func lin(_ c: UInt8) -> Double { let x = Double(c) / 255; return x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4) }
        let y = (0..<256).map { k in 0.2126 * lin(t[3 * k]) + 0.7152 * lin(t[3 * k + 1]) + 0.0722 * lin(t[3 * k + 2]) }
        let drops = (1..<256).filter { y[$0] < y[$0 - 1] - 1e-4 }
        #expect(drops.isEmpty, "luminance falls at entries \(drops)")
        #expect(y[255] > 0.9 && y[0] < 0.001)
        #expect(ColorMap.grayscale.color(0.5) == (128, 128, 128))
        #expect(ColorMap.ember.color(-3) == ColorMap.ember.color(0) && ColorMap.ember.color(.nan) == ColorMap.ember.color(0))
    }

    // MARK: Preprocessing and tokenizers

    @Test func preprocessingSquashesAndMapsToMinusOneOne() {
        let image = Image(width: 20, height: 10, channels: 3,
                          pixels: (0..<200).flatMap { _ in [UInt8(255), 0, 51] })
        let x = ImagePreprocessing.modelInput(image, side: 8)
        expectClose(x, [Double](repeating: 1, count: 64) + [Double](repeating: -1, count: 64) + [Double](repeating: 51.0 / 255 * 2 - 1, count: 64),
                    shape: [3, 8, 8], atol: 1e-6, rtol: 0, "constant colour")
        // a vertical edge stays where it was in relative terms (aspect ratio not kept)
        let edge = Image(width: 20, height: 10, channels: 1, pixels: (0..<200).map { $0 % 20 < 10 ? UInt8(0) : 255 })
        let e = ImagePreprocessing.modelInput(edge, side: 8)
        let row = Array(values(e)[0..<8])
        #expect(row[0] == -1 && row[7] == 1 && row[3] < 0 && row[4] > 0, "\(row)")
        #expect(values(e)[0..<64] == values(e)[128..<192], "gray is replicated")
        let tiny = OmniModelConfiguration.preset("tiny")!.image!
        #expect(ImagePreprocessing.side(for: tiny) == 64)
        #expect(ImagePreprocessing.side(for: ImageEncoderConfiguration(backbone: .vit(VisionTransformerConfiguration(imageSize: 70, patchSize: 8)), dimension: 8)) == 64)
        #expect(ImagePreprocessing.normalization(for: tiny) == ImagePreprocessing.normalization)
    }

    @Test func modelFolderTokenizerLoadsAndMissingFilesAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "omni-explain-tok-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let trained = BPETrainer(vocabularySize: 270).train(on: ["a red circle", "two blue squares", "a red square"])
        try trained.save(to: dir.appending(path: "tok.tiktoken"))
        let config = TokenizerConfiguration(kind: .tiktoken, file: "tok.tiktoken", pattern: "gpt2")
        let loaded = try config.load(from: dir)
        #expect(loaded.encode("a red circle", addSpecialTokens: true) == trained.encode("a red circle", addSpecialTokens: true))
        #expect(TokenizerConfiguration(kind: .tiktoken, file: "x", pattern: SplitPattern.cl100k.regex).splitPattern == .cl100k)
        #expect { _ = try TokenizerConfiguration(kind: .tiktoken, file: "none.tiktoken").load(from: dir) } throws: {
            "\($0)".contains("none.tiktoken") && "\($0)".contains("missing")
        }
        #expect { _ = try TokenizerConfiguration(kind: .tiktoken, file: "tok.tiktoken", pattern: "nope").load(from: dir) } throws: {
            "\($0)".contains("nope")
        }
    }
}
