// Swin Transformer — Liu et al. 2021, "Swin Transformer: Hierarchical Vision Transformer using
// Shifted Windows" (arXiv:2103.14030), as torchvision's `torchvision.models.swin_t` builds it, so
// that its checkpoints load strictly with their own keys:
//
//   features.0                patch embedding: `0` Conv2d(C → E, kernel = stride = patch), `2` LayerNorm(E)
//   features.1, .3, .5, .7    stages: Swin blocks `0`, `1`, … (nn.Sequential indices)
//     .N.norm1, .N.norm2      LayerNorms
//     .N.attn.qkv, .attn.proj window attention projections
//     .N.attn.relative_position_bias_table   [(2w−1)², heads] learned bias per relative offset
//     .N.attn.relative_position_index        buffer: the table row of each (query, key) pair, [w⁴]
//     .N.mlp.0, .N.mlp.3      the MLP's Linear layers (GELU and dropouts between them)
//   features.2, .4, .6        patch merging: `norm` LayerNorm(4C), `reduction` Linear(4C → 2C, no bias)
//   norm                      final LayerNorm
//   head                      Linear(8E → classes) on the mean token, optional
//
// Activations stay channels-last ([B, H, W, C]) throughout, as in torchvision. Blocks alternate
// between plain windows and windows shifted by ⌊w/2⌋ (odd blocks): the map is rolled by −shift,
// partitioned into w×w windows, and tokens attend only within their window and, for windows that
// straddle the roll's seam, only to tokens from the same side of it (an additive −100 mask,
// torchvision's value). Feature maps that are not a multiple of the window are zero-padded at the
// bottom/right before attention (after norm1) and cropped after it, and the padding is attended
// like any token, exactly as torchvision does; no shift is applied along an axis the window
// covers entirely. Patch merging pads odd maps with a zero row/column.
//
// Shapes: B batch, H×W map, C channels of the stage, w window, N = w² tokens per window,
// nW windows per image, E embedding width.
import Foundation
import OmniNN
import OmniTensor

// MARK: - Configuration

/// The hyper-parameters of a ``SwinTransformer`` (torchvision's `SwinTransformer(...)` arguments).
///
/// ```swift
/// let config = SwinTransformerConfiguration(embedDimension: 48, depths: [2, 2], heads: [2, 4], windowSize: 4)
/// let swin = SwinTransformer(config, generator: Generator(seed: 0))
/// ```
public struct SwinTransformerConfiguration: Codable, Sendable, Equatable {
    /// Side of a square patch in pixels (4).
    public var patchSize: Int
    /// Input channels (3).
    public var channels: Int
    /// Width E of the first stage; stage i has E·2ⁱ channels.
    public var embedDimension: Int
    /// Blocks per stage.
    public var depths: [Int]
    /// Attention heads per stage.
    public var heads: [Int]
    /// Side of a square attention window (7).
    public var windowSize: Int
    /// MLP hidden size as a multiple of the stage width (4).
    public var mlpRatio: Double
    /// Size of the classification head's output; 0 builds no head.
    public var classCount: Int
    /// Epsilon of every LayerNorm (1e-5 in torchvision).
    public var layerNormEps: Float
    /// Dropout after the attention projection and in the MLP (training only).
    public var dropout: Float
    /// Dropout on attention weights (training only).
    public var attentionDropout: Float
    /// Stochastic depth: block k of K drops its residual branch (per sample) with probability
    /// `stochasticDepth · k / (K − 1)` in training (torchvision's "row" mode).
    public var stochasticDepth: Float

    public init(patchSize: Int = 4, channels: Int = 3, embedDimension: Int = 96, depths: [Int] = [2, 2, 6, 2],
                heads: [Int] = [3, 6, 12, 24], windowSize: Int = 7, mlpRatio: Double = 4, classCount: Int = 1000,
                layerNormEps: Float = 1e-5, dropout: Float = 0, attentionDropout: Float = 0, stochasticDepth: Float = 0.2) {
        self.patchSize = patchSize
        self.channels = channels
        self.embedDimension = embedDimension
        self.depths = depths
        self.heads = heads
        self.windowSize = windowSize
        self.mlpRatio = mlpRatio
        self.classCount = classCount
        self.layerNormEps = layerNormEps
        self.dropout = dropout
        self.attentionDropout = attentionDropout
        self.stochasticDepth = stochasticDepth
    }

    /// Swin-T (torchvision's `swin_t`): patch 4, E = 96, depths 2-2-6-2, heads 3-6-12-24,
    /// window 7, stochastic depth 0.2, 1000 classes.
    public static let swinTiny = SwinTransformerConfiguration()

    /// Width of stage `i`.
    public func stageDimension(_ i: Int) -> Int { embedDimension << i }
    /// Width of the last stage's tokens (8E for four stages).
    public var outputDimension: Int { stageDimension(depths.count - 1) }
    /// Pixels per last-stage token along each side (patch · 2^(stages − 1)).
    public var outputStride: Int { patchSize << (depths.count - 1) }

    /// Why these values cannot build a model, or nil.
    public var problem: String? {
        let sizes = [("patchSize", patchSize), ("channels", channels), ("embedDimension", embedDimension), ("windowSize", windowSize)]
        if let (name, value) = sizes.first(where: { $0.1 <= 0 }) { return "\(name) must be positive, got \(value)" }
        if depths.isEmpty || depths.contains(where: { $0 <= 0 }) { return "depths must be a non-empty list of positive counts, got \(depths)" }
        if heads.count != depths.count { return "\(heads.count) head counts for \(depths.count) stages" }
        for (i, h) in heads.enumerated() where h <= 0 || stageDimension(i) % h != 0 {
            return "stage \(i) width \(stageDimension(i)) is not divisible by \(h) heads"
        }
        if !(mlpRatio > 0) || Int(Double(outputDimension) * mlpRatio) <= 0 { return "mlpRatio must be positive, got \(mlpRatio)" }
        if classCount < 0 { return "classCount must be 0 (no head) or positive, got \(classCount)" }
        if !(layerNormEps > 0) { return "layerNormEps must be positive, got \(layerNormEps)" }
        for (name, p) in [("dropout", dropout), ("attentionDropout", attentionDropout), ("stochasticDepth", stochasticDepth)]
        where !(p >= 0 && p < 1) {
            return "\(name) must be in [0, 1), got \(p)"
        }
        return nil
    }
}

// MARK: - Model

/// A Swin Transformer: patch embedding, stages of (shifted-)window attention blocks with patch
/// merging between them (a 4-level pyramid for Swin-T), final LayerNorm, optional head.
///
/// ```swift
/// let swin = SwinTransformer(.swinTiny, generator: Generator(seed: 0))
/// swin.eval()
/// let tokens = GradMode.withoutGrad { swin.features(images) }   // [B, 3, 224, 224] → [B, 49, 768]
/// ```
public final class SwinTransformer: Module, @unchecked Sendable {
    /// `features.0`: the strided patch convolution (`0`) and a LayerNorm (`2`); `1` is
    /// torchvision's parameter-free NCHW → NHWC permutation.
    public final class PatchEmbedding: UnaryModule, @unchecked Sendable {
        @ModuleInfo(key: "0") public var projection: Conv2d
        @ModuleInfo(key: "2") public var norm: LayerNorm

        public init(channels: Int, dimension: Int, patchSize: Int, eps: Float, generator: Generator) {
            super.init()
            projection = Conv2d(channels, dimension, kernel: IntOrPair(patchSize), stride: IntOrPair(patchSize),
                                generator: generator)
            norm = LayerNorm(dimension, eps: eps)
        }

        /// [B, C, H, W] → [B, ⌊H/p⌋, ⌊W/p⌋, E]
        public override func callAsFunction(_ x: Tensor) -> Tensor {
            norm(patchProjection(x, weight: projection.weight, bias: projection.bias))
        }
    }

    /// Multi-head self-attention inside (shifted) windows with a learned relative position bias
    /// (torchvision's `ShiftedWindowAttention`, key `attn`).
    public final class WindowAttention: Module, @unchecked Sendable {
        @ModuleInfo(key: "qkv") public var qkv: Linear
        @ModuleInfo(key: "proj") public var projection: Linear
        /// [(2w − 1)², heads]: one bias per head for each relative offset (Δy, Δx).
        @ParameterInfo(key: "relative_position_bias_table") public var biasTable: Tensor
        /// int64 [w⁴]: the table row of query i and key j at i·w² + j.
        @ParameterInfo(key: "relative_position_index", kind: .buffer) public var biasIndex: Tensor
        public let dimension: Int
        public let heads: Int
        public let window: Int
        /// Roll of the map before partitioning (0 for plain windows, ⌊w/2⌋ for shifted ones).
        public let shift: Int
        let attentionDropout: Float
        let dropout: Float
        let generator: Generator

        public init(dimension: Int, heads: Int, window: Int, shift: Int, attentionDropout: Float = 0, dropout: Float = 0,
                    generator: Generator) {
            precondition(shift >= 0 && shift < window, "WindowAttention: shift \(shift) must be in 0..<\(window)")
            self.dimension = dimension
            self.heads = heads
            self.window = window
            self.shift = shift
            self.attentionDropout = attentionDropout
            self.dropout = dropout
            self.generator = generator
            super.init()
            qkv = Linear(dimension, 3 * dimension, generator: generator)
            projection = Linear(dimension, dimension, generator: generator)
            biasTable = Tensor.normal([(2 * window - 1) * (2 * window - 1), heads], std: 0.02, generator: generator)
            biasIndex = Tensor(WindowAttention.relativePositionIndex(window: window))
        }

        /// Row (Δy + w − 1)·(2w − 1) + (Δx + w − 1) of the table for every (query, key) pair of a
        /// window, Δ = query − key position, flattened [w², w²] → [w⁴].
        public static func relativePositionIndex(window w: Int) -> [Int] {
            let n = w * w
            var index = [Int](repeating: 0, count: n * n)
            for i in 0..<n {
                for j in 0..<n {
                    index[i * n + j] = (i / w - j / w + w - 1) * (2 * w - 1) + (i % w - j % w + w - 1)
                }
            }
            return index
        }

        /// The bias added to every window's scores: [1, heads, N, N].
        public func relativePositionBias() -> Tensor {
            let n = window * window
            return biasTable.indexSelect(axis: 0, indices: biasIndex)   // [N·N, heads]
                .reshaped([n, n, heads]).permuted([2, 0, 1]).unsqueezed(axis: 0)
        }

        /// Which side of the roll's seam each position of the padded map lies on: torchvision's
        /// region labels (three bands per axis: before the last window, inside it before the
        /// shift, the shifted-in strip; one band along an axis without shift).
        static func regionLabels(height: Int, width: Int, window w: Int, shift: (Int, Int)) -> [Int] {
            func band(_ y: Int, _ n: Int, _ s: Int) -> Int { s == 0 ? 0 : (y < n - w ? 0 : (y < n - s ? 1 : 2)) }
            var labels = [Int](repeating: 0, count: height * width)
            for y in 0..<height {
                for x in 0..<width { labels[y * width + x] = band(y, height, shift.0) * 3 + band(x, width, shift.1) }
            }
            return labels
        }

        /// The additive mask of shifted windows: [nW, N, N], 0 where query and key share a region,
        /// −100 elsewhere, windows in row-major order.
        static func shiftMask(height: Int, width: Int, window w: Int, shift: (Int, Int)) -> Tensor {
            let labels = regionLabels(height: height, width: width, window: w, shift: shift)
            let (nh, nw, n) = (height / w, width / w, w * w)
            var mask = [Float](repeating: 0, count: nh * nw * n * n)
            for wy in 0..<nh {
                for wx in 0..<nw {
                    let base = (wy * nw + wx) * n * n
                    for i in 0..<n {
                        let li = labels[(wy * w + i / w) * width + wx * w + i % w]
                        for j in 0..<n where labels[(wy * w + j / w) * width + wx * w + j % w] != li {
                            mask[base + i * n + j] = -100
                        }
                    }
                }
            }
            return Tensor(mask, shape: [nh * nw, n, n])
        }

        /// [B, H, W, C] → [B, H, W, C]
        public func callAsFunction(_ input: Tensor) -> Tensor {
            precondition(input.rank == 4 && input.shape[3] == dimension,
                         "WindowAttention: input \(input.shape) must be [B, H, W, \(dimension)]")
            let (b, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
            let win = window
            let (padBottom, padRight) = ((win - h % win) % win, (win - w % win) % win)
            var x = padBottom + padRight > 0 ? input.padded([(0, 0), (0, padBottom), (0, padRight), (0, 0)]) : input
            let (ph, pw) = (h + padBottom, w + padRight)
            let shifts = (win >= ph ? 0 : shift, win >= pw ? 0 : shift)
            let shifted = shifts.0 + shifts.1 > 0
            if shifted { x = rolled(rolled(x, by: -shifts.0, axis: 1), by: -shifts.1, axis: 2) }

            let (nh, nw, n) = (ph / win, pw / win, win * win)
            let windowCount = nh * nw
            let windows = x.reshaped([b, nh, win, nw, win, c]).permuted([0, 1, 3, 2, 4, 5])
                .reshaped([b * windowCount, n, c])                                             // [B·nW, N, C]
            let dh = c / heads
            let qkvHeads = qkv(windows).reshaped([b * windowCount, n, 3, heads, dh])
                .permuted([2, 0, 3, 1, 4])                                                     // [3, B·nW, heads, N, Dh]
            func part(_ i: Int) -> Tensor { qkvHeads.narrowed(axis: 0, start: i, length: 1).squeezed(axis: 0) }
            let q = part(0) * (1 / Float(dh).squareRoot())
            var scores = q.matmul(part(1).transposed()) + relativePositionBias()              // [B·nW, heads, N, N]
            if shifted {
                let mask = WindowAttention.shiftMask(height: ph, width: pw, window: win, shift: shifts)
                scores = (scores.reshaped([b, windowCount, heads, n, n]) + mask.reshaped([1, windowCount, 1, n, n]))
                    .reshaped([b * windowCount, heads, n, n])
            }
            var weights = scores.softmax(axis: -1)
            if isTraining && attentionDropout > 0 { weights = weights.dropout(p: attentionDropout, generator: generator) }
            var out = weights.matmul(part(2)).transposed(1, 2).reshaped([b * windowCount, n, c])  // [B·nW, N, C]
            out = projection(out)
            if isTraining && dropout > 0 { out = out.dropout(p: dropout, generator: generator) }

            var merged = out.reshaped([b, nh, nw, win, win, c]).permuted([0, 1, 3, 2, 4, 5]).reshaped([b, ph, pw, c])
            if shifted { merged = rolled(rolled(merged, by: shifts.0, axis: 1), by: shifts.1, axis: 2) }
            if padBottom + padRight > 0 {
                merged = merged.narrowed(axis: 1, start: 0, length: h).narrowed(axis: 2, start: 0, length: w)
            }
            return merged
        }

        public override var summary: String {
            "WindowAttention(\(dimension), heads: \(heads), window: \(window)\(shift > 0 ? ", shift: \(shift)" : ""))"
        }
    }

    /// torchvision's `MLP`: Linear (`0`), GELU, Dropout, Linear (`3`), Dropout.
    public final class FeedForward: UnaryModule, @unchecked Sendable {
        @ModuleInfo(key: "0") public var fc1: Linear
        @ModuleInfo(key: "3") public var fc2: Linear
        let dropout: Float
        let generator: Generator

        public init(dimension: Int, hiddenSize: Int, dropout: Float, generator: Generator) {
            self.dropout = dropout
            self.generator = generator
            super.init()
            fc1 = Linear(dimension, hiddenSize, generator: generator)
            fc2 = Linear(hiddenSize, dimension, generator: generator)
        }

        /// [..., C] → [..., C]
        public override func callAsFunction(_ x: Tensor) -> Tensor {
            func drop(_ t: Tensor) -> Tensor { isTraining && dropout > 0 ? t.dropout(p: dropout, generator: generator) : t }
            return drop(fc2(drop(fc1(x).gelu())))
        }
    }

    /// One Swin block: x + attn(norm1(x)), then x + mlp(norm2(x)), each branch under stochastic depth.
    public final class Block: UnaryModule, @unchecked Sendable {
        @ModuleInfo(key: "norm1") public var norm1: LayerNorm
        @ModuleInfo(key: "attn") public var attention: WindowAttention
        @ModuleInfo(key: "norm2") public var norm2: LayerNorm
        @ModuleInfo(key: "mlp") public var mlp: FeedForward
        /// Probability of dropping a sample's residual branches in training.
        public let stochasticDepth: Float
        let generator: Generator

        public init(dimension: Int, heads: Int, window: Int, shift: Int, mlpHiddenSize: Int, eps: Float, dropout: Float,
                    attentionDropout: Float, stochasticDepth: Float, generator: Generator) {
            self.stochasticDepth = stochasticDepth
            self.generator = generator
            super.init()
            norm1 = LayerNorm(dimension, eps: eps)
            attention = WindowAttention(dimension: dimension, heads: heads, window: window, shift: shift,
                                        attentionDropout: attentionDropout, dropout: dropout, generator: generator)
            norm2 = LayerNorm(dimension, eps: eps)
            mlp = FeedForward(dimension: dimension, hiddenSize: mlpHiddenSize, dropout: dropout, generator: generator)
        }

        /// torchvision's `StochasticDepth(p, "row")`: in training, zero a sample's branch with
        /// probability p and scale the kept ones by 1/(1 − p).
        func dropPath(_ branch: Tensor) -> Tensor {
            guard isTraining && stochasticDepth > 0 else { return branch }
            let keep = 1 - stochasticDepth
            let mask = Tensor.bernoulli([branch.shape[0]] + Array(repeating: 1, count: branch.rank - 1), p: keep,
                                        generator: generator)
            return branch * (mask * (1 / keep))
        }

        /// [B, H, W, C] → [B, H, W, C]
        public override func callAsFunction(_ x: Tensor) -> Tensor {
            let h = x + dropPath(attention(norm1(x)))
            return h + dropPath(mlp(norm2(h)))
        }
    }

    /// A stage: its blocks under bare indices (torchvision's `nn.Sequential`).
    public final class Stage: UnaryModule, @unchecked Sendable {
        @ModuleInfo(key: "") public var blocks: [Block]

        public init(blocks: [Block]) {
            super.init()
            self.blocks = blocks
        }

        /// [B, H, W, C] → [B, H, W, C]
        public override func callAsFunction(_ x: Tensor) -> Tensor { blocks.reduce(x) { h, block in block(h) } }
    }

    /// Patch merging: each 2×2 neighbourhood concatenated (4C), normalised and reduced to 2C.
    public final class PatchMerging: UnaryModule, @unchecked Sendable {
        @ModuleInfo(key: "reduction") public var reduction: Linear
        @ModuleInfo(key: "norm") public var norm: LayerNorm

        public init(dimension: Int, eps: Float, generator: Generator) {
            super.init()
            reduction = Linear(4 * dimension, 2 * dimension, bias: false, generator: generator)
            norm = LayerNorm(4 * dimension, eps: eps)
        }

        /// [B, H, W, C] → [B, ⌈H/2⌉, ⌈W/2⌉, 2C]; odd sizes get a zero row/column first.
        public override func callAsFunction(_ input: Tensor) -> Tensor {
            let (h, w) = (input.shape[1], input.shape[2])
            let x = h % 2 + w % 2 > 0 ? input.padded([(0, 0), (0, h % 2), (0, w % 2), (0, 0)]) : input
            func quarter(_ dy: Int, _ dx: Int) -> Tensor {
                x.sliced(axis: 1, start: dy, step: 2).sliced(axis: 2, start: dx, step: 2)
            }
            // torchvision's order: (0, 0), (1, 0), (0, 1), (1, 1)
            let joined = Tensor.concatenated([quarter(0, 0), quarter(1, 0), quarter(0, 1), quarter(1, 1)], axis: 3)
            return reduction(norm(joined))
        }
    }

    /// `features.0` (patch embedding), then stages and patch mergings alternating.
    @ModuleInfo(key: "features") public var features: [UnaryModule]
    @ModuleInfo(key: "norm") public var norm: LayerNorm
    @ModuleInfo(key: "head") public var head: Linear?
    public let configuration: SwinTransformerConfiguration

    /// A freshly initialised model: bias tables N(0, 0.02²), layers as OmniNN initialises them.
    public init(_ configuration: SwinTransformerConfiguration, generator: Generator) {
        if let problem = configuration.problem { preconditionFailure("SwinTransformer: \(problem)") }
        self.configuration = configuration
        super.init()
        let c = configuration
        var layers: [UnaryModule] = [PatchEmbedding(channels: c.channels, dimension: c.embedDimension, patchSize: c.patchSize,
                                                    eps: c.layerNormEps, generator: generator)]
        let totalBlocks = c.depths.reduce(0, +)
        var blockID = 0
        for (i, depth) in c.depths.enumerated() {
            let dim = c.stageDimension(i)
            let blocks = (0..<depth).map { k -> Block in
                defer { blockID += 1 }
                let sd = totalBlocks > 1 ? c.stochasticDepth * Float(blockID) / Float(totalBlocks - 1) : 0
                return Block(dimension: dim, heads: c.heads[i], window: c.windowSize, shift: k % 2 == 0 ? 0 : c.windowSize / 2,
                             mlpHiddenSize: Int(Double(dim) * c.mlpRatio), eps: c.layerNormEps, dropout: c.dropout,
                             attentionDropout: c.attentionDropout, stochasticDepth: sd, generator: generator)
            }
            layers.append(Stage(blocks: blocks))
            if i < c.depths.count - 1 { layers.append(PatchMerging(dimension: dim, eps: c.layerNormEps, generator: generator)) }
        }
        features = layers
        norm = LayerNorm(c.outputDimension, eps: c.layerNormEps)
        head = c.classCount > 0 ? Linear(c.outputDimension, c.classCount, generator: generator) : nil
    }

    /// Width of the output tokens.
    public var outputDimension: Int { configuration.outputDimension }

    /// The last stage's normalised map: [B, C, H, W] → [B, h, w, 8E] (h = ⌈…⌈⌊H/p⌋/2⌉…/2⌉).
    public func featureMap(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == configuration.channels,
                     "SwinTransformer: images must be [B, \(configuration.channels), H, W], got \(images.shape)")
        precondition(images.shape[2] >= configuration.patchSize && images.shape[3] >= configuration.patchSize,
                     "SwinTransformer: image \(images.shape[2])×\(images.shape[3]) is smaller than one \(configuration.patchSize)-pixel patch")
        return norm(features.reduce(images) { h, layer in layer(h) })
    }

    /// The last stage's tokens in row-major order: [B, C, H, W] → [B, h·w, 8E].
    public func features(_ images: Tensor) -> Tensor {
        let map = featureMap(images)
        return map.reshaped([map.shape[0], map.shape[1] * map.shape[2], map.shape[3]])
    }

    /// Logits [B, classCount] from the mean token (or that mean, [B, 8E], without a head).
    public func callAsFunction(_ images: Tensor) -> Tensor {
        let pooled = featureMap(images).mean(axes: [1, 2])
        return head.map { $0(pooled) } ?? pooled
    }

    public override var summary: String {
        let c = configuration
        return "SwinTransformer(patch \(c.patchSize), dim \(c.embedDimension), depths \(c.depths), window \(c.windowSize))"
    }
}

// MARK: - Helpers shared by the image encoders

/// `torch.roll` along one axis: element i moves to (i + shift) mod n.
func rolled(_ x: Tensor, by shift: Int, axis: Int) -> Tensor {
    let n = x.shape[axis]
    let s = ((shift % n) + n) % n
    if s == 0 { return x }
    return Tensor.concatenated([x.narrowed(axis: axis, start: n - s, length: s), x.narrowed(axis: axis, start: 0, length: n - s)],
                               axis: axis)
}

/// A convolution whose stride equals its kernel, as one matrix product over the non-overlapping
/// patches: [B, C, H, W] with weight [D, C, p, p] → channels-last [B, ⌊H/p⌋, ⌊W/p⌋, D]. Pixels
/// beyond the last whole patch are dropped, as the strided convolution does.
func patchProjection(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (d, p) = (weight.shape[0], weight.shape[2])
    precondition(c == weight.shape[1] && weight.shape[3] == p, "patch embedding: input \(x.shape) does not fit weight \(weight.shape)")
    let (gh, gw) = (h / p, w / p)
    var image = x
    if gh * p != h { image = image.narrowed(axis: 2, start: 0, length: gh * p) }
    if gw * p != w { image = image.narrowed(axis: 3, start: 0, length: gw * p) }
    let patches = image.reshaped([b, c, gh, p, gw, p]).permuted([0, 2, 4, 1, 3, 5])   // [B, gh, gw, C, p, p]
        .reshaped([b, gh, gw, c * p * p])
    return patches.linear(weight: weight.reshaped([d, c * p * p]), bias: bias)       // [B, gh, gw, D]
}
