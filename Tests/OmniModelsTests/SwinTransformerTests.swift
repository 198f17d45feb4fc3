// SwinTransformer: (shifted-)window attention against a direct Float64 reference — full attention
// over every token of the (padded, rolled) map with a mask that allows only pairs in the same
// window and on the same side of the roll's seam, plus the relative position bias — and the
// whole network against a plain-PyTorch Swin in torchvision's layout (Fixtures/swin_tiny, made by
// scripts/fixtures/make_vit_fixture.py), including padded and unshifted-axis cases.
import Foundation
import Testing
@testable import OmniModels
import OmniNN
import OmniTensor

/// The fixture's architecture: patch 2, E = 16, two stages of 2 blocks (2 and 4 heads), window 4.
let tinySwinConfiguration = SwinTransformerConfiguration(
    patchSize: 2, embedDimension: 16, depths: [2, 2], heads: [2, 4], windowSize: 4, mlpRatio: 2, classCount: 5,
    stochasticDepth: 0)

/// Window attention computed directly in Float64 from its definition, without partitioning:
/// pad the map to window multiples, roll it by −shift (per axis, none where the window covers
/// the axis), let token i attend token j only when both lie in the same window and neither pair
/// straddles the roll's seam (both wrapped around or both not, per axis), add the bias of their
/// offset, attend, project, roll back and crop.
private func directWindowAttention(_ attention: SwinTransformer.WindowAttention, _ input: Tensor) -> [Double] {
    let (b, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    let win = attention.window, heads = attention.heads, dh = c / heads
    let ph = (h + win - 1) / win * win, pw = (w + win - 1) / win * win
    let sy = win >= ph ? 0 : attention.shift, sx = win >= pw ? 0 : attention.shift
    let x = input.toArray().map(Double.init)
    let wqkv = attention.qkv.weight.toArray().map(Double.init), bqkv = attention.qkv.bias!.toArray().map(Double.init)
    let wo = attention.projection.weight.toArray().map(Double.init), bo = attention.projection.bias!.toArray().map(Double.init)
    let table = attention.biasTable.toArray().map(Double.init)   // [(2w−1)², heads]
    var out = [Double](repeating: 0, count: b * h * w * c)
    let n = ph * pw
    for s in 0..<b {
        // rolled map: position (y, x) holds the padded input at ((y + sy) mod ph, (x + sx) mod pw)
        func source(_ p: Int) -> (Int, Int) { ((p / pw + sy) % ph, (p % pw + sx) % pw) }
        var tokens = [[Double]](repeating: [Double](repeating: 0, count: c), count: n)
        for p in 0..<n {
            let (y, xx) = source(p)
            if y < h && xx < w { for k in 0..<c { tokens[p][k] = x[((s * h + y) * w + xx) * c + k] } }
        }
        var q = [[Double]](), k = [[Double]](), v = [[Double]]()
        for t in tokens {
            var row = [Double](repeating: 0, count: 3 * c)
            for o in 0..<(3 * c) { row[o] = bqkv[o] + (0..<c).reduce(0.0) { $0 + wqkv[o * c + $1] * t[$1] } }
            q.append(Array(row[0..<c])); k.append(Array(row[c..<(2 * c)])); v.append(Array(row[(2 * c)...]))
        }
        for i in 0..<n {
            let (yi, xi) = (i / pw, i % pw)
            let (oy, ox) = source(i)
            guard oy < h && ox < w else { continue }   // padding: cropped away
            var merged = [Double](repeating: 0, count: c)
            for head in 0..<heads {
                var scores: [(Int, Double)] = []
                for j in 0..<n {
                    let (yj, xj) = (j / pw, j % pw)
                    let sameWindow = yi / win == yj / win && xi / win == xj / win
                    let sameSide = (yi + sy >= ph) == (yj + sy >= ph) && (xi + sx >= pw) == (xj + sx >= pw)
                    guard sameWindow && sameSide else { continue }
                    var dot = 0.0
                    for e in 0..<dh { dot += q[i][head * dh + e] * k[j][head * dh + e] }
                    let row = (yi - yj + win - 1) * (2 * win - 1) + (xi - xj + win - 1)
                    scores.append((j, dot / Double(dh).squareRoot() + table[row * heads + head]))
                }
                let top = scores.map(\.1).max()!
                let total = scores.reduce(0.0) { $0 + Foundation.exp($1.1 - top) }
                for (j, score) in scores {
                    let p = Foundation.exp(score - top) / total
                    for e in 0..<dh { merged[head * dh + e] += p * v[j][head * dh + e] }
                }
            }
            for o in 0..<c {
                out[((s * h + oy) * w + ox) * c + o] = bo[o] + (0..<c).reduce(0.0) { $0 + wo[o * c + $1] * merged[$1] }
            }
        }
    }
    return out
}

private func fixtureSwin() throws -> SwinTransformer {
    let model = SwinTransformer(tinySwinConfiguration, generator: Generator(seed: 9))
    try model.load(try EncoderCheck.tensors("swin_tiny", "swin_tiny.safetensors"), file: "swin_tiny.safetensors")
    model.eval()
    return model
}

@Suite struct SwinTransformerTests {
    /// 8×8 (no padding), 7×10 (padded to 8×12), 3×9 (the window covers the height: horizontal shift only).
    @Test(arguments: [(8, 8), (7, 10), (3, 9)])
    func windowAttentionMatchesDirectMaskedAttention(size: (Int, Int)) {
        for shift in [0, 2] {
            let attention = SwinTransformer.WindowAttention(dimension: 8, heads: 2, window: 4, shift: shift,
                                                            generator: Generator(seed: 11))
            attention.biasTable = Tensor.normal(attention.biasTable.shape, std: 0.5, generator: Generator(seed: 12))
            let x = Tensor.normal([2, size.0, size.1, 8], generator: Generator(seed: 13))
            let y = GradMode.withoutGrad { attention(x) }
            expectClose(y, directWindowAttention(attention, x), shape: [2, size.0, size.1, 8], atol: 1e-5, rtol: 1e-5,
                        "window attention \(size.0)×\(size.1), shift \(shift)")
        }
    }

    @Test func shiftMaskSeparatesTheSeam() {
        // 8×8 map, window 4, shift 2: the bottom-right window mixes 4 regions, the top-left none
        let mask = SwinTransformer.WindowAttention.shiftMask(height: 8, width: 8, window: 4, shift: (2, 2))
        #expect(mask.shape == [4, 16, 16])
        let v = mask.toArray()
        #expect(v[0..<256].allSatisfy { $0 == 0 })
        let last = Array(v[(3 * 256)...])
        // tokens 0 (row 0, col 0) and 3 (row 0, col 3) lie on either side of the vertical seam
        #expect(last[0 * 16 + 3] == -100 && last[0 * 16 + 1] == 0 && last[0 * 16 + 8] == -100 && last[5 * 16 + 0] == 0)
    }

    @Test(arguments: ["32x32", "22x26", "8x21"])
    func matchesPyTorch(size: String) throws {
        let model = try fixtureSwin()
        let io = try EncoderCheck.tensors("swin_tiny", "swin_tiny_io.safetensors")
        let x = try #require(io["input_\(size)"])
        let (map, logits) = GradMode.withoutGrad { (model.featureMap(x), model(x)) }
        EncoderCheck.expectNear(map, try #require(io["features_\(size)"]), tolerance: 1e-4, "feature map \(size)")
        EncoderCheck.expectNear(logits, try #require(io["logits_\(size)"]), tolerance: 1e-4, "logits \(size)")
        let tokens = GradMode.withoutGrad { model.features(x) }
        #expect(tokens.shape == [map.shape[0], map.shape[1] * map.shape[2], 32])
    }

    @Test func relativePositionIndexIsTorchvisions() throws {
        let weights = try EncoderCheck.tensors("swin_tiny", "swin_tiny.safetensors")
        let fresh = SwinTransformer(tinySwinConfiguration, generator: Generator(seed: 0))
        let index = try #require(weights["features.1.0.attn.relative_position_index"])
        #expect(index.dtype == .int64)
        #expect(fresh.stateDict()["features.1.0.attn.relative_position_index"]!.toIntArray() == index.toIntArray())
        // the layout is torchvision's: every key of the checkpoint, nothing more
        #expect(Set(fresh.stateDict().keys) == Set(weights.keys))
    }

    @Test func gradientsReachEveryParameter() {
        let model = SwinTransformer(tinySwinConfiguration, generator: Generator(seed: 5))
        let x = Tensor.normal([2, 3, 18, 22], generator: Generator(seed: 6))   // padding and shifts in both stages
        EncoderCheck.expectGradientsEverywhere(model, "Swin logits") { m in EncoderCheck.weightedSum(m(x)) }
    }

    @Test func stochasticDepthDropsWholeSamplesOnlyInTraining() {
        var config = tinySwinConfiguration
        config.stochasticDepth = 0.5
        let model = SwinTransformer(config, generator: Generator(seed: 5))
        let blocks = (model.features[3] as! SwinTransformer.Stage).blocks
        #expect(blocks.map(\.stochasticDepth) == [Float(0.5) * 2 / 3, 0.5])
        let x = Tensor.normal([4, 3, 16, 16], generator: Generator(seed: 6))
        model.eval()
        let a = GradMode.withoutGrad { model(x) }, b = GradMode.withoutGrad { model(x) }
        #expect(a.toArray() == b.toArray())
        // in training, a sample's branch is all dropped (0) or all kept (scaled by 1/(1 − p))
        model.train()
        let kept = blocks[1].dropPath(Tensor.ones([64, 2, 2, 3])).toArray()
        var dropped = 0
        for sample in 0..<64 {
            let values = Set(kept[(sample * 12)..<(sample * 12 + 12)])
            #expect(values == [0] || values == [2], "sample \(sample): \(values)")
            if values == [0] { dropped += 1 }
        }
        #expect(dropped > 8 && dropped < 56, "\(dropped) of 64 samples dropped at p = 0.5")
    }

    @Test func swinTinyPresetIsTorchvisionsSwinT() {
        let c = SwinTransformerConfiguration.swinTiny
        #expect(c.patchSize == 4 && c.embedDimension == 96 && c.depths == [2, 2, 6, 2] && c.heads == [3, 6, 12, 24])
        #expect(c.windowSize == 7 && c.outputDimension == 768 && c.outputStride == 32 && c.problem == nil)
    }
}
