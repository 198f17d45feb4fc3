// Vision Transformer — Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words: Transformers for
// Image Recognition at Scale" (arXiv:2010.11929), laid out as timm's `VisionTransformer`:
//
//   patch_embed.proj          Conv2d(C → D, kernel = stride = patch): one token per patch
//   patch_embed.stem.N        optional convolutional stem (Xiao et al. 2021, "Early Convolutions
//                             Help Transformers See Better", arXiv:2106.14881): n stages of
//                             Conv2d 3×3 stride 2 → LayerNorm over channels → GELU
//                             (OmniNN's ConvolutionStage); proj then has kernel = stride = p/2ⁿ
//                             over the stem's map (1×1 when p = 2ⁿ)
//   cls_token                 [1, 1, D] learned class token, prepended (optional)
//   pos_embed                 [1, 1 + gh·gw, D] learned positions (absent with 2-D sin-cos positions)
//   blocks.N                  pre-LN Transformer blocks (OmniNN's TransformerEncoderLayer):
//                             norm1, self_attn.{q_proj, k_proj, v_proj, out_proj}, norm2, mlp.{fc1, fc2}
//   norm                      final LayerNorm
//   head                      Linear(D → classes) on the class token (or the mean token), optional
//
// Checked against a plain-PyTorch model with the same keys (scripts/fixtures/make_vit_fixture.py).
// timm checkpoints, which fuse q/k/v (`blocks.N.attn.qkv`) and name the output projection
// `attn.proj`, load through ``VisionTransformer/sanitize(_:)``.
//
// Other image sizes: the learned position grid is resampled to the new patch grid with bicubic
// interpolation (a = −0.75, half-pixel centres, borders clamped: PyTorch's
// `F.interpolate(mode="bicubic", align_corners=False)`, i.e. timm's `resample_abs_pos_embed` with
// `antialias=False`), differentiable since it is a fixed linear map. At the native size it is the
// identity. Pixels beyond the last whole patch are dropped, as the strided convolution does.
//
// Shapes: B batch, C channels, H×W pixels, p patch, gh×gw = ⌊H/p⌋×⌊W/p⌋ patch grid, P prefix
// tokens (1 with a class token, else 0), N = P + gh·gw tokens, D model width. With a stem of n
// stages each side goes h → ⌈h/2⌉ n times before the ⌊·/(p/2ⁿ)⌋ patching (the same grid as
// ⌊H/p⌋ when p divides H).
import Foundation
import OmniNN
import OmniTensor

// MARK: - Configuration

/// The hyper-parameters of a ``VisionTransformer``.
///
/// ```swift
/// var config = VisionTransformerConfiguration.vitTiny224       // ViT-Ti/16 at 224 px
/// config.classCount = 10
/// let vit = VisionTransformer(config, generator: Generator(seed: 0))
/// ```
public struct VisionTransformerConfiguration: Codable, Sendable, Equatable {
    /// How patch tokens learn where they are.
    public enum PositionEmbedding: String, Codable, Sendable {
        /// A learned table `pos_embed` for the native grid, resampled bicubically for other grids.
        case learned
        /// Fixed 2-D sin-cos positions (MAE's `get_2d_sincos_pos_embed`), computed for any grid;
        /// no parameters.
        case sinCos2D = "sincos2d"
    }

    /// What summarises an image for the classification head.
    public enum Pooling: String, Codable, Sendable {
        /// The class token's final state.
        case classToken = "cls"
        /// The mean of the patch tokens' final states.
        case mean
    }

    /// Side of the square image the learned positions are laid out for (224).
    public var imageSize: Int
    /// Side of a square patch in pixels (16).
    public var patchSize: Int
    /// Input channels (3).
    public var channels: Int
    /// Token width D.
    public var dimension: Int
    /// Number of Transformer blocks.
    public var depth: Int
    /// Attention heads per block (D must be divisible by it).
    public var heads: Int
    /// Hidden size of each block's MLP.
    public var mlpHiddenSize: Int
    /// Size of the classification head's output; 0 builds no head.
    public var classCount: Int
    /// The MLP's activation (exact GELU in ViT).
    public var activation: Activation
    public var positionEmbedding: PositionEmbedding
    /// Whether a learned class token is prepended.
    public var classToken: Bool
    public var pooling: Pooling
    /// Epsilon of every LayerNorm (1e-6 in timm and torchvision).
    public var layerNormEps: Float
    /// Dropout on attention weights and residual branches (training only).
    public var dropout: Float
    /// Output channels of each stage of a convolutional stem (3×3, stride 2, LayerNorm, GELU)
    /// before the patch projection; nil or empty: the plain patchifying convolution. The patch
    /// size must be divisible by 2^stages.
    public var stemChannels: [Int]?

    public init(imageSize: Int = 224, patchSize: Int = 16, channels: Int = 3, dimension: Int = 192, depth: Int = 12,
                heads: Int = 3, mlpHiddenSize: Int = 768, classCount: Int = 1000, activation: Activation = .gelu,
                positionEmbedding: PositionEmbedding = .learned, classToken: Bool = true, pooling: Pooling = .classToken,
                layerNormEps: Float = 1e-6, dropout: Float = 0, stemChannels: [Int]? = nil) {
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.channels = channels
        self.dimension = dimension
        self.depth = depth
        self.heads = heads
        self.mlpHiddenSize = mlpHiddenSize
        self.classCount = classCount
        self.activation = activation
        self.positionEmbedding = positionEmbedding
        self.classToken = classToken
        self.pooling = pooling
        self.layerNormEps = layerNormEps
        self.dropout = dropout
        self.stemChannels = stemChannels
    }

    /// ViT-Ti/16 at 224 px (timm's `vit_tiny_patch16_224`): patch 16, width 192, 12 blocks of 3
    /// heads, MLP 768, 1000 classes, exact GELU, pre-LN, learned positions, class token.
    public static let vitTiny224 = VisionTransformerConfiguration()

    /// ViT-S/16 at 224 px: width 384, 12 blocks of 6 heads, MLP 1536.
    public static let vitSmall224 = VisionTransformerConfiguration(dimension: 384, heads: 6, mlpHiddenSize: 1536)

    /// The presets by name: `vit-tiny-224`, `vit-small-224`.
    public static let presets: [String: VisionTransformerConfiguration] = [
        "vit-tiny-224": .vitTiny224, "vit-small-224": .vitSmall224,
    ]

    /// Patches per side of the native grid.
    public var nativeGrid: Int { grid(height: imageSize, width: imageSize).height }

    /// The stem's stages (empty without a stem).
    public var stemStages: [Int] { stemChannels ?? [] }

    /// Side of the patch the projection sees on the stem's map: p / 2^stages (p without a stem).
    public var projectionPatchSize: Int { patchSize >> stemStages.count }

    /// The patch grid of an H×W image: (⌊H/p⌋, ⌊W/p⌋) without a stem; with n stem stages each side
    /// is first halved n times rounding up (stride-2 3×3 convolutions with padding 1), then
    /// divided by p/2ⁿ rounding down.
    public func grid(height: Int, width: Int) -> (height: Int, width: Int) {
        var (h, w) = (height, width)
        for _ in stemStages { (h, w) = ((h + 1) / 2, (w + 1) / 2) }
        return (h / projectionPatchSize, w / projectionPatchSize)
    }
    /// Tokens before the patch tokens (the class token, if any).
    public var prefixTokenCount: Int { classToken ? 1 : 0 }

    /// Why these values cannot build a model, or nil.
    public var problem: String? {
        let sizes = [("imageSize", imageSize), ("patchSize", patchSize), ("channels", channels), ("dimension", dimension),
                     ("depth", depth), ("heads", heads), ("mlpHiddenSize", mlpHiddenSize)]
        if let (name, value) = sizes.first(where: { $0.1 <= 0 }) { return "\(name) must be positive, got \(value)" }
        if classCount < 0 { return "classCount must be 0 (no head) or positive, got \(classCount)" }
        if dimension % heads != 0 { return "dimension \(dimension) is not divisible by \(heads) heads" }
        if imageSize < patchSize { return "imageSize \(imageSize) is smaller than one patch (\(patchSize))" }
        if positionEmbedding == .sinCos2D && dimension % 4 != 0 {
            return "2-D sin-cos positions need a dimension divisible by 4, got \(dimension)"
        }
        if pooling == .classToken && !classToken { return "pooling \"cls\" needs a class token" }
        if let bad = stemStages.first(where: { $0 <= 0 }) { return "stemChannels must be positive, got \(bad)" }
        if !stemStages.isEmpty && (patchSize % (1 << stemStages.count) != 0) {
            return "patchSize \(patchSize) is not divisible by 2^\(stemStages.count) (one halving per stemChannels entry)"
        }
        if !(layerNormEps > 0) { return "layerNormEps must be positive, got \(layerNormEps)" }
        if !(dropout >= 0 && dropout < 1) { return "dropout must be in [0, 1), got \(dropout)" }
        return nil
    }
}

// MARK: - Model

/// A Vision Transformer: patch embedding, optional class token, learned or 2-D sin-cos positions,
/// pre-LN Transformer blocks, final LayerNorm and an optional classification head.
///
/// Images of any size at least one patch large go in: learned positions are resampled to the
/// image's patch grid (see ``positions(gridHeight:gridWidth:)``).
///
/// ```swift
/// let vit = VisionTransformer(.vitTiny224, generator: Generator(seed: 0))
/// vit.eval()
/// let logits = GradMode.withoutGrad { vit(images) }          // [B, 3, 224, 224] → [B, 1000]
/// let tokens = GradMode.withoutGrad { vit.features(images) }  // [B, 197, 192]
/// ```
public final class VisionTransformer: Module, @unchecked Sendable {
    /// The patch embedding (`patch_embed`): an optional convolutional stem, then a convolution
    /// whose kernel and stride are the (remaining) patch.
    public final class PatchEmbedding: Module, @unchecked Sendable {
        @ModuleInfo(key: "stem") public var stem: [ConvolutionStage]
        @ModuleInfo(key: "proj") public var projection: Conv2d
        /// The patch side in input pixels.
        public let patchSize: Int

        public init(channels: Int, dimension: Int, patchSize: Int, stemChannels: [Int] = [], generator: Generator) {
            self.patchSize = patchSize
            super.init()
            var c = channels
            stem = stemChannels.map { out in
                defer { c = out }
                return ConvolutionStage(c, out, stride: 2, generator: generator)
            }
            let p = patchSize >> stemChannels.count
            projection = Conv2d(c, dimension, kernel: IntOrPair(p), stride: IntOrPair(p), generator: generator)
        }

        /// [B, C, H, W] → [B, gh·gw, D] in row-major patch order.
        ///
        /// A convolution with stride = kernel is a matrix product over non-overlapping patches:
        /// the patches are gathered once ([B·gh·gw, C·p·p]) and multiplied by the kernel seen as
        /// [D, C·p·p], one GEMM instead of oneDNN's im2col path.
        public func callAsFunction(_ x: Tensor) -> Tensor {
            let map = stem.reduce(x) { $1($0) }                                                // [B, C', H', W']
            let grid = patchProjection(map, weight: projection.weight, bias: projection.bias)   // [B, gh, gw, D]
            return grid.reshaped([grid.shape[0], grid.shape[1] * grid.shape[2], grid.shape[3]])
        }
    }

    @ModuleInfo(key: "patch_embed") public var patchEmbedding: PatchEmbedding
    /// [1, 1, D] (nil without a class token).
    @ParameterInfo(key: "cls_token") public var classToken: Tensor?
    /// [1, P + g·g, D] for the native grid g (nil with sin-cos positions).
    @ParameterInfo(key: "pos_embed") public var positionTable: Tensor?
    @ModuleInfo(key: "blocks") public var blocks: [TransformerEncoderLayer]
    @ModuleInfo(key: "norm") public var norm: LayerNorm
    @ModuleInfo(key: "head") public var head: Linear?
    public let configuration: VisionTransformerConfiguration
    let sinCosCache = SinCosPositionCache()

    /// A freshly initialised model: class token and positions N(0, 0.02²), layers as OmniNN
    /// initialises them (PyTorch's defaults).
    public init(_ configuration: VisionTransformerConfiguration, generator: Generator) {
        if let problem = configuration.problem { preconditionFailure("VisionTransformer: \(problem)") }
        self.configuration = configuration
        super.init()
        let c = configuration, d = c.dimension
        patchEmbedding = PatchEmbedding(channels: c.channels, dimension: d, patchSize: c.patchSize, stemChannels: c.stemStages,
                                        generator: generator)
        classToken = c.classToken ? Tensor.normal([1, 1, d], std: 0.02, generator: generator) : nil
        positionTable = c.positionEmbedding == .learned
            ? Tensor.normal([1, c.prefixTokenCount + c.nativeGrid * c.nativeGrid, d], std: 0.02, generator: generator) : nil
        blocks = (0..<c.depth).map { _ in
            TransformerEncoderLayer(dimension: d, heads: c.heads, mlpHiddenSize: c.mlpHiddenSize, activation: c.activation,
                                    placement: .pre, norm: .layer, eps: c.layerNormEps, dropout: c.dropout, generator: generator)
        }
        norm = LayerNorm(d, eps: c.layerNormEps)
        head = c.classCount > 0 ? Linear(d, c.classCount, generator: generator) : nil
    }

    /// Token width D.
    public var dimension: Int { configuration.dimension }

    /// The patch grid of an H×W image: (⌊H/p⌋, ⌊W/p⌋) without a stem (see
    /// ``VisionTransformerConfiguration/grid(height:width:)``).
    public func grid(height: Int, width: Int) -> (height: Int, width: Int) {
        configuration.grid(height: height, width: width)
    }

    // MARK: Positions

    /// The patch tokens' positions for a gh×gw grid: [gh·gw, D] in row-major order. Learned
    /// positions are resampled bicubically from the native grid (exactly the table at the native
    /// grid); sin-cos positions are computed.
    public func positions(gridHeight gh: Int, gridWidth gw: Int) -> Tensor {
        let c = configuration
        guard let table = positionTable else { return sinCosCache.table(height: gh, width: gw, dimension: c.dimension) }
        let g = c.nativeGrid
        let patches = table.narrowed(axis: 1, start: c.prefixTokenCount, length: g * g).reshaped([g * g, c.dimension])
        return VisionTransformer.resamplePositions(patches, from: (g, g), to: (gh, gw))
    }

    /// The class token's position [1, D] (0 with sin-cos positions, as in MAE).
    func classPosition() -> Tensor? {
        guard configuration.classToken else { return nil }
        guard let table = positionTable else { return Tensor.zeros([1, configuration.dimension]) }
        return table.narrowed(axis: 1, start: 0, length: 1).reshaped([1, configuration.dimension])
    }

    /// Resamples a position grid [h·w, D] (row-major) to [h'·w', D] with bicubic interpolation
    /// (PyTorch's `F.interpolate(mode="bicubic", align_corners=False)`: a = −0.75, half-pixel
    /// centres, indices clamped at the borders). Returns `table` itself when the size is unchanged.
    public static func resamplePositions(_ table: Tensor, from old: (height: Int, width: Int),
                                         to new: (height: Int, width: Int)) -> Tensor {
        precondition(table.rank == 2 && table.shape[0] == old.height * old.width,
                     "resamplePositions: table \(table.shape) is not a [\(old.height)·\(old.width), D] grid")
        if old == new { return table }
        // separable: out = (Wh ⊗ Ww) · table, one [h'·w', h·w] matrix
        let rows = bicubicWeights(from: old.height, to: new.height)   // [h', h]
        let cols = bicubicWeights(from: old.width, to: new.width)     // [w', w]
        var kron = [Float](repeating: 0, count: new.height * new.width * old.height * old.width)
        let oldCount = old.height * old.width
        for i in 0..<new.height {
            for a in 0..<old.height where rows[i * old.height + a] != 0 {
                let wi = rows[i * old.height + a]
                for j in 0..<new.width {
                    let base = (i * new.width + j) * oldCount + a * old.width
                    for b in 0..<old.width { kron[base + b] += Float(wi * cols[j * old.width + b]) }
                }
            }
        }
        return Tensor(kron, shape: [new.height * new.width, oldCount]).matmul(table)   // [h'·w', D]
    }

    /// The 1-D bicubic interpolation matrix [to, from] (row i: the weights output i gives each
    /// input), PyTorch's `upsample_bicubic2d` with `align_corners=False`.
    public static func bicubicWeights(from n: Int, to m: Int) -> [Double] {
        precondition(n > 0 && m > 0, "bicubicWeights: sizes must be positive, got \(n) → \(m)")
        let a = -0.75
        func near(_ x: Double) -> Double { ((a + 2) * x - (a + 3)) * x * x + 1 }          // |x| ≤ 1
        func far(_ x: Double) -> Double { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }     // 1 < |x| < 2
        var w = [Double](repeating: 0, count: m * n)
        let scale = Double(n) / Double(m)
        for i in 0..<m {
            let source = (Double(i) + 0.5) * scale - 0.5
            let floor = source.rounded(.down)
            let t = source - floor
            let taps = [far(t + 1), near(t), near(1 - t), far(2 - t)]
            for (k, weight) in taps.enumerated() {
                let index = Swift.min(Swift.max(Int(floor) - 1 + k, 0), n - 1)
                w[i * n + index] += weight
            }
        }
        return w
    }

    // MARK: Forward

    /// Patch tokens with the class token and positions: [B, C, H, W] → [B, N, D], N = P + gh·gw.
    public func embed(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == configuration.channels,
                     "VisionTransformer: images must be [B, \(configuration.channels), H, W], got \(images.shape)")
        let (gh, gw) = grid(height: images.shape[2], width: images.shape[3])
        precondition(gh > 0 && gw > 0, "VisionTransformer: image \(images.shape[2])×\(images.shape[3]) is smaller than one \(configuration.patchSize)-pixel patch")
        let b = images.shape[0], d = configuration.dimension
        var tokens = patchEmbedding(images) + positions(gridHeight: gh, gridWidth: gw)   // [B, gh·gw, D]
        if let classToken, let classPosition = classPosition() {
            let cls = (classToken.reshaped([1, d]) + classPosition).reshaped([1, 1, d]).expanded(to: [b, 1, d])
            tokens = Tensor.concatenated([cls, tokens], axis: 1)                        // [B, 1 + gh·gw, D]
        }
        return tokens
    }

    /// The Transformer blocks and the final norm: tokens [B, N, D] → [B, N, D].
    ///
    /// - Parameter keyPadding: bool [B, N], true for real tokens; padded tokens are never attended
    ///   (their own outputs are meaningless). nil: every token is real.
    public func encode(_ tokens: Tensor, keyPadding: Tensor? = nil) -> Tensor {
        encode(tokens, keyPadding: keyPadding, returnAttention: false).states
    }

    /// The Transformer blocks and the final norm, and each block's self-attention weights when
    /// asked (for explanations such as attention rollout).
    ///
    /// - Returns: `states` [B, N, D] as ``encode(_:keyPadding:)``; `attention`: one [B, H, N, N]
    ///   tensor per block (softmax probabilities before dropout, padded keys exactly 0), or empty
    ///   when `returnAttention` is false.
    public func encode(_ tokens: Tensor, keyPadding: Tensor? = nil,
                       returnAttention: Bool) -> (states: Tensor, attention: [Tensor]) {
        precondition(tokens.rank == 3 && tokens.shape[2] == configuration.dimension,
                     "VisionTransformer: tokens \(tokens.shape) must be [B, N, \(configuration.dimension)]")
        if let keyPadding {
            precondition(keyPadding.dtype == .bool && keyPadding.shape == Array(tokens.shape[0..<2]),
                         "VisionTransformer: keyPadding must be bool \(Array(tokens.shape[0..<2])), got \(keyPadding.dtype) \(keyPadding.shape)")
        }
        var hidden = tokens
        var attention: [Tensor] = []
        for block in blocks {
            let r = block(hidden, keyPadding: keyPadding, returnWeights: returnAttention)
            hidden = r.output
            if returnAttention, let w = r.weights { attention.append(w) }
        }
        return (norm(hidden), attention)
    }

    /// Final token states: [B, C, H, W] → [B, N, D].
    public func features(_ images: Tensor) -> Tensor { encode(embed(images)) }

    /// Final token states [B, N, D] and, when asked, each block's self-attention weights
    /// [B, H, N, N] (see ``encode(_:keyPadding:returnAttention:)``).
    ///
    /// ```swift
    /// let (states, attention) = GradMode.withoutGrad { vit.features(images, returnAttention: true) }
    /// let map = AttentionRollout().relevance(attention: attention, prefixTokens: 1, gridHeight: 14, gridWidth: 14)
    /// ```
    public func features(_ images: Tensor, returnAttention: Bool) -> (states: Tensor, attention: [Tensor]) {
        encode(embed(images), returnAttention: returnAttention)
    }

    /// The summary the head reads: [B, N, D] final states → [B, D] (class token, or mean of the
    /// patch tokens; `keyPadding` excludes padding from the mean).
    public func pooled(_ states: Tensor, keyPadding: Tensor? = nil) -> Tensor {
        let p = configuration.prefixTokenCount
        switch configuration.pooling {
        case .classToken:
            return states.narrowed(axis: 1, start: 0, length: 1).squeezed(axis: 1)
        case .mean:
            let patches = states.narrowed(axis: 1, start: p, length: states.shape[1] - p)   // [B, N − P, D]
            guard let keyPadding else { return patches.mean(axis: 1) }
            let real = keyPadding.narrowed(axis: 1, start: p, length: states.shape[1] - p)
                .converted(to: .float32).unsqueezed(axis: -1)                               // [B, N − P, 1]
            return (patches * real).sum(axis: 1) / real.sum(axis: 1)
        }
    }

    /// Logits [B, classCount] (or the pooled features [B, D] when the model has no head).
    public func callAsFunction(_ images: Tensor) -> Tensor {
        let summary = pooled(features(images))
        return head.map { $0(summary) } ?? summary
    }

    // MARK: Checkpoints

    /// timm's names: `blocks.N.attn.qkv` ([3D, D], q, k, v stacked) becomes `self_attn.q_proj`,
    /// `k_proj`, `v_proj`; `blocks.N.attn.proj` becomes `self_attn.out_proj`. Other keys already
    /// agree. Anything else is left for strict loading to report.
    public override func sanitize(_ weights: [String: Tensor]) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (key, tensor) in weights {
            guard key.hasPrefix("blocks."), let range = key.range(of: ".attn.") else { out[key] = tensor; continue }
            let block = key[..<range.lowerBound]
            let rest = key[range.upperBound...]
            if rest == "qkv.weight" || rest == "qkv.bias", tensor.shape.first.map({ $0 % 3 == 0 }) == true {
                let kind = rest.hasSuffix("weight") ? "weight" : "bias"
                let parts = tensor.chunked(3, axis: 0)
                for (name, part) in zip(["q_proj", "k_proj", "v_proj"], parts) {
                    out["\(block).self_attn.\(name).\(kind)"] = part.contiguous()
                }
            } else if rest.hasPrefix("proj.") {
                out["\(block).self_attn.out_proj.\(rest.dropFirst("proj.".count))"] = tensor
            } else {
                out[key] = tensor
            }
        }
        return out
    }

    public override var summary: String {
        let c = configuration
        let stem = c.stemStages.isEmpty ? "" : ", stem \(c.stemStages)"
        return "VisionTransformer(patch \(c.patchSize)\(stem), dim \(c.dimension), depth \(c.depth), heads \(c.heads), \(c.positionEmbedding.rawValue) positions)"
    }
}

// MARK: - 2-D sin-cos positions

/// Sin-cos position tables by grid size, computed once each (they are constants).
final class SinCosPositionCache: @unchecked Sendable {
    private var tables: [[Int]: Tensor] = [:]
    private let lock = NSLock()

    /// [h·w, D], row-major: MAE's `get_2d_sincos_pos_embed` — the first D/2 channels encode the
    /// column, the last D/2 the row; each half is [sin(x·ω), cos(x·ω)] with ω_i = 10000^(−i/(D/4)).
    func table(height h: Int, width w: Int, dimension d: Int) -> Tensor {
        lock.lock(); defer { lock.unlock() }
        if let t = tables[[h, w, d]] { return t }
        let quarter = d / 4
        var v = [Float](repeating: 0, count: h * w * d)
        for y in 0..<h {
            for x in 0..<w {
                let base = (y * w + x) * d
                for i in 0..<quarter {
                    let omega = 1 / pow(10_000.0, Double(i) / Double(quarter))
                    v[base + i] = Float(sin(Double(x) * omega))
                    v[base + quarter + i] = Float(cos(Double(x) * omega))
                    v[base + 2 * quarter + i] = Float(sin(Double(y) * omega))
                    v[base + 3 * quarter + i] = Float(cos(Double(y) * omega))
                }
            }
        }
        let t = Tensor(v, shape: [h * w, d])
        if tables.count < 64 { tables[[h, w, d]] = t }
        return t
    }
}
