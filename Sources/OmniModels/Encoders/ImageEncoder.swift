// The image encoder of the omni-modal model (DESIGN.md §1, issue 5): a backbone turns each image
// into a grid of tokens, a linear projection maps them to the model width, and tagged medical
// images get a learned embedding of their DICOM modality added. Backbones:
//
//   ViT          VisionTransformer without head: 1 + ⌊H/p⌋·⌊W/p⌋ tokens (class token first) after
//                the final norm; images of different sizes share one Transformer pass, padded to the
//                longest sequence with padded keys masked out of attention.
//   Swin         SwinTransformer without head: the last stage's normalised map, h·w tokens
//                (h = ⌈…⌈⌊H/p⌋/2⌉…/2⌉, 7×7 for Swin-T at 224 px).
//   MobileNetV2  torchvision's trunk (pretrained ImageNet weights load into it): the feature map
//                before pooling, ⌈H/32⌉·⌈W/32⌉ tokens of 1280 channels. Its classifier is kept so
//                torchvision checkpoints load strictly, and frozen (tokens do not use it).
//
// Swin and MobileNetV2 see each group of equally sized images as one batch (their windows,
// padding and convolutions depend on the map size), so an image's tokens never depend on the
// other images of the batch — except through BatchNorm's batch statistics when MobileNetV2 is in
// training mode. Tokens are padded to the longest image of the batch; padded positions hold 0 and
// are false in the mask. A sample without an image (nil) has an all-false mask row.
//
// Keys: `backbone.*` (the backbone's own keys, so `backbone.` + a timm/torchvision key),
// `projection.{weight, bias}`, `modality_embed` [modalities, D].
import Foundation
import OmniNN
import OmniTensor

/// A batch of images, possibly of different sizes, for ``ImageEncoder``.
///
/// Each image is a float32 [C, H, W] tensor, already normalised (e.g. `Image.classificationTensor()`,
/// or a DICOM image after its windowing). `nil` marks a sample without an image.
///
/// ```swift
/// let batch = ImageBatch(images: [ct, nil, photo], modalities: [.ct, nil, nil])
/// ```
public struct ImageBatch: @unchecked Sendable {
    /// One entry per sample: [C, H, W], or nil when the sample has no image.
    public var images: [Tensor?]
    /// The DICOM modality of each image (nil: untagged, e.g. a photograph); empty = none tagged.
    public var modalities: [ImagingModality?]

    public init(images: [Tensor?], modalities: [ImagingModality?] = []) {
        precondition(modalities.isEmpty || modalities.count == images.count,
                     "ImageBatch: \(modalities.count) modality tags for \(images.count) images")
        self.images = images
        self.modalities = modalities
    }

    /// A batch from a dense [B, C, H, W] tensor.
    public init(stacked images: Tensor, modalities: [ImagingModality?] = []) {
        precondition(images.rank == 4, "ImageBatch: stacked images must be [B, C, H, W], got \(images.shape)")
        self.init(images: (0..<images.shape[0]).map { images.narrowed(axis: 0, start: $0, length: 1).squeezed(axis: 0) },
                  modalities: modalities)
    }

    public var count: Int { images.count }
}

/// The hyper-parameters of an ``ImageEncoder``.
///
/// ```swift
/// let config = ImageEncoderConfiguration(backbone: .vit(.vitTiny224), dimension: 256)
/// ```
public struct ImageEncoderConfiguration: Codable, Sendable, Equatable {
    /// Which network makes the token grid. The backbone's `classCount` is ignored for ViT and
    /// Swin (built without a head).
    public enum Backbone: Codable, Sendable, Equatable {
        case vit(VisionTransformerConfiguration)
        case swin(SwinTransformerConfiguration)
        case mobileNetV2(MobileNetV2Configuration)
    }

    public var backbone: Backbone
    /// Width D of the output tokens.
    public var dimension: Int
    /// Whether a learned DICOM-modality embedding is added to tagged images' tokens.
    public var modalityTags: Bool

    public init(backbone: Backbone, dimension: Int, modalityTags: Bool = true) {
        self.backbone = backbone
        self.dimension = dimension
        self.modalityTags = modalityTags
    }

    /// Input channels the backbone expects.
    public var channels: Int {
        switch backbone {
        case .vit(let c): return c.channels
        case .swin(let c): return c.channels
        case .mobileNetV2: return 3
        }
    }

    /// Why these values cannot build an encoder, or nil.
    public var problem: String? {
        if dimension <= 0 { return "dimension must be positive, got \(dimension)" }
        switch backbone {
        case .vit(let c): return c.problem.map { "vit: \($0)" }
        case .swin(let c): return c.problem.map { "swin: \($0)" }
        case .mobileNetV2(let c): return c.classCount > 0 && c.widthMultiplier > 0 ? nil : "mobileNetV2: classCount and widthMultiplier must be positive"
        }
    }
}

/// Encodes images into tokens [B, N, D] with a mask (see the file header for N per backbone).
///
/// ```swift
/// let encoder = ImageEncoder(ImageEncoderConfiguration(backbone: .vit(.vitTiny224), dimension: 256),
///                            generator: Generator(seed: 0))
/// let out = encoder(ImageBatch(images: [a, b]))   // a: [3, 224, 224], b: [3, 160, 96]
/// out.tokens    // [2, 197, 256]; b's 1 + 10·6 = 61 tokens, then zeros
/// out.mask      // [2, 197]: a all true; b true for the first 61
/// ```
public final class ImageEncoder: Module, ModalityEncoder, @unchecked Sendable {
    @ModuleInfo(key: "backbone") public var backbone: Module
    @ModuleInfo(key: "projection") public var projection: Linear
    /// [ImagingModality.allCases.count, D] (nil without modality tags).
    @ParameterInfo(key: "modality_embed") public var modalityEmbedding: Tensor?
    public let configuration: ImageEncoderConfiguration

    public init(_ configuration: ImageEncoderConfiguration, generator: Generator) {
        if let problem = configuration.problem { preconditionFailure("ImageEncoder: \(problem)") }
        self.configuration = configuration
        super.init()
        let width: Int
        switch configuration.backbone {
        case .vit(var c):
            c.classCount = 0
            backbone = VisionTransformer(c, generator: generator)
            width = c.dimension
        case .swin(var c):
            c.classCount = 0
            backbone = SwinTransformer(c, generator: generator)
            width = c.outputDimension
        case .mobileNetV2(let c):
            let trunk = MobileNetV2(c, generator: generator)
            trunk.freeze(matching: "classifier.*")
            backbone = trunk
            width = c.lastChannels
        }
        projection = Linear(width, configuration.dimension, generator: generator)
        modalityEmbedding = configuration.modalityTags
            ? Tensor.normal([ImagingModality.allCases.count, configuration.dimension], std: 0.02, generator: generator) : nil
    }

    public var outputDimension: Int { configuration.dimension }

    /// Tokens per image of `height`×`width` pixels.
    public func tokenCount(height: Int, width: Int) -> Int {
        let grid = tokenGrid(height: height, width: width)
        return grid.prefix + grid.height * grid.width
    }

    /// How an image of `height`×`width` pixels is laid out in its tokens: `prefix` tokens (the ViT's
    /// class token) first, then a `height`×`width` grid of patch tokens in row-major order, each
    /// covering the same share of the image.
    public func tokenGrid(height: Int, width: Int) -> (prefix: Int, height: Int, width: Int) {
        switch configuration.backbone {
        case .vit(let c):
            let grid = c.grid(height: height, width: width)
            return (c.prefixTokenCount, grid.height, grid.width)
        case .swin(let c):
            var (h, w) = (height / c.patchSize, width / c.patchSize)
            for _ in 1..<c.depths.count { (h, w) = ((h + 1) / 2, (w + 1) / 2) }
            return (0, h, w)
        case .mobileNetV2:
            var (h, w) = (height, width)
            for _ in 0..<5 { (h, w) = ((h + 1) / 2, (w + 1) / 2) }
            return (0, h, w)
        }
    }

    /// The smallest side an image may have (one patch, or 1 pixel for MobileNetV2).
    public var minimumSide: Int {
        switch configuration.backbone {
        case .vit(let c): return c.patchSize
        case .swin(let c): return c.patchSize
        case .mobileNetV2: return 1
        }
    }

    /// Encodes a batch: tokens [B, N, D] (N = the most tokens of any image, at least 1), mask [B, N].
    public func callAsFunction(_ batch: ImageBatch) -> ModalityTokens {
        callAsFunction(batch, returnAttention: false).tokens
    }

    /// Encodes a batch and, when asked, returns the ViT backbone's self-attention weights: one
    /// [B, H, N, N] tensor per block, over the backbone's tokens (the same N and order as
    /// `tokens`); rows of samples without an image are zero. Swin (windowed attention) and
    /// MobileNetV2 (no attention) return no weights.
    ///
    /// ```swift
    /// let (tokens, attention) = encoder(ImageBatch(images: [image]), returnAttention: true)
    /// attention.count   // the ViT's depth; attention[0].shape == [1, heads, 1 + gh·gw, 1 + gh·gw]
    /// ```
    public func callAsFunction(_ batch: ImageBatch, returnAttention: Bool) -> (tokens: ModalityTokens, attention: [Tensor]) {
        let present = batch.images.indices.filter { batch.images[$0] != nil }
        let images = present.map { batch.images[$0]! }
        for (i, image) in zip(present, images) {
            precondition(image.rank == 3 && image.shape[0] == configuration.channels && image.dtype == .float32,
                         "ImageEncoder: image \(i) must be float32 [\(configuration.channels), H, W], got \(image.dtype) \(image.shape)")
            precondition(image.shape[1] >= minimumSide && image.shape[2] >= minimumSide,
                         "ImageEncoder: image \(i) is \(image.shape[1])×\(image.shape[2]) pixels, smaller than \(minimumSide)")
        }
        let d = configuration.dimension
        guard !images.isEmpty else {
            return (ModalityTokens(tokens: Tensor.zeros([batch.count, 1, d]),
                                   mask: Tensor([Bool](repeating: false, count: batch.count), shape: [batch.count, 1])), [])
        }
        let (states, lengths, attention) = backboneTokens(images, returnAttention: returnAttention)   // [B', N, Db], real lengths
        let n = states.shape[1]
        let maskValues = lengths.flatMap { len in (0..<n).map { $0 < len } }
        let realMask = Tensor(maskValues, shape: [images.count, n])             // [B', N]
        var tokens = projection(states)                                          // [B', N, D]
        if let modalityEmbedding, !batch.modalities.isEmpty {
            let tags = present.map { batch.modalities[$0] }
            if tags.contains(where: { $0 != nil }) {
                let rows = modalityEmbedding.indexSelect(axis: 0, indices: Tensor(tags.map { $0?.index ?? 0 }))  // [B', D]
                let tagged = Tensor(tags.map { $0 == nil ? Float(0) : 1 }, shape: [images.count, 1])
                tokens = tokens + (rows * tagged).unsqueezed(axis: 1)
            }
        }
        tokens = tokens * realMask.converted(to: .float32).unsqueezed(axis: -1) // padding → 0
        let out = ImageEncoder.scatter(tokens, mask: realMask, present: present, batchSize: batch.count)
        return (out, attention.map { ImageEncoder.scatterRows($0, present: present, batchSize: batch.count) })
    }

    /// Places the rows [B', …] of the present samples into [batchSize, …], zeros for the others.
    static func scatterRows(_ x: Tensor, present: [Int], batchSize: Int) -> Tensor {
        if present.count == batchSize { return x }
        var rows = [Int](repeating: present.count, count: batchSize)   // row B' is the all-zero row
        for (row, sample) in present.enumerated() { rows[sample] = row }
        let zero = Tensor.zeros([1] + Array(x.shape.dropFirst()))
        return Tensor.concatenated([x, zero], axis: 0).indexSelect(axis: 0, indices: Tensor(rows))
    }

    /// Places the encoded rows of the present samples into a batch of `batchSize`, with zero
    /// tokens and all-false masks for the missing ones.
    static func scatter(_ tokens: Tensor, mask: Tensor, present: [Int], batchSize: Int) -> ModalityTokens {
        if present.count == batchSize { return ModalityTokens(tokens: tokens, mask: mask) }
        let (n, d) = (tokens.shape[1], tokens.shape[2])
        var rows = [Int](repeating: present.count, count: batchSize)   // row B' is the all-zero row
        for (row, sample) in present.enumerated() { rows[sample] = row }
        let index = Tensor(rows)
        let paddedTokens = Tensor.concatenated([tokens, Tensor.zeros([1, n, d])], axis: 0).indexSelect(axis: 0, indices: index)
        let maskRows = mask.toBoolArray() + [Bool](repeating: false, count: n)
        let fullMask = rows.flatMap { maskRows[($0 * n)..<($0 * n + n)] }
        return ModalityTokens(tokens: paddedTokens, mask: Tensor(fullMask, shape: [batchSize, n]))
    }

    /// The backbone's tokens for the given images: [B', N, Db], padded after each image's own
    /// count, which `lengths` gives.
    func backboneTokens(_ images: [Tensor]) -> (Tensor, [Int]) {
        let r = backboneTokens(images, returnAttention: false)
        return (r.0, r.1)
    }

    /// ``backboneTokens(_:)`` and, with `returnAttention`, a ViT's weights [B', H, N, N] per block.
    func backboneTokens(_ images: [Tensor], returnAttention: Bool) -> (Tensor, [Int], [Tensor]) {
        // equally sized images run together
        var groups: [[Int]: [Int]] = [:]
        var order: [[Int]] = []
        for (i, image) in images.enumerated() {
            let size = Array(image.shape[1...])
            if groups[size] == nil { order.append(size) }
            groups[size, default: []].append(i)
        }
        var perImage = [Tensor?](repeating: nil, count: images.count)   // [Ni, Db] each
        if let vit = backbone as? VisionTransformer {
            for size in order {
                let members = groups[size]!
                let embedded = vit.embed(Tensor.stacked(members.map { images[$0] }))   // [g, Ni, Db]
                for (k, i) in members.enumerated() { perImage[i] = embedded.narrowed(axis: 0, start: k, length: 1).squeezed(axis: 0) }
            }
            let (padded, lengths) = ImageEncoder.padded(perImage.map { $0! })
            let keyPadding = Set(lengths).count > 1
                ? Tensor(lengths.flatMap { len in (0..<padded.shape[1]).map { $0 < len } }, shape: [images.count, padded.shape[1]]) : nil
            let encoded = vit.encode(padded, keyPadding: keyPadding, returnAttention: returnAttention)
            return (encoded.states, lengths, encoded.attention)
        }
        for size in order {
            let members = groups[size]!
            let stack = Tensor.stacked(members.map { images[$0] })                  // [g, C, H, W]
            let grid: Tensor                                                         // [g, n, Db]
            switch backbone {
            case let swin as SwinTransformer:
                grid = swin.features(stack)
            case let mobileNet as MobileNetV2:
                let map = mobileNet.featureMap(stack).permuted([0, 2, 3, 1])       // [g, h, w, 1280]
                grid = map.reshaped([map.shape[0], map.shape[1] * map.shape[2], map.shape[3]])
            default:
                preconditionFailure("ImageEncoder: unknown backbone \(type(of: backbone))")
            }
            for (k, i) in members.enumerated() { perImage[i] = grid.narrowed(axis: 0, start: k, length: 1).squeezed(axis: 0) }
        }
        let (padded, lengths) = ImageEncoder.padded(perImage.map { $0! })
        return (padded, lengths, [])
    }

    /// Stacks sequences [Ni, D] into [count, max Ni, D], zero after each one's end.
    static func padded(_ sequences: [Tensor]) -> (Tensor, [Int]) {
        let lengths = sequences.map { $0.shape[0] }
        let n = lengths.max()!
        let rows = sequences.map { s in s.shape[0] == n ? s : s.padded([(0, n - s.shape[0]), (0, 0)]) }
        return (Tensor.stacked(rows), lengths)
    }

    /// Loads a checkpoint of the backbone alone (timm / torchvision keys, without `backbone.`),
    /// strictly; a ViT or Swin checkpoint's `head.*` tensors are ignored (the encoder has no head).
    public func loadBackbone(_ weights: [String: Tensor], file: String? = nil) throws {
        var weights = weights
        if !(backbone is MobileNetV2) { weights = weights.filter { !$0.key.hasPrefix("head.") } }
        try backbone.load(weights, file: file)
    }

    /// Loads the backbone from a checkpoint file (safetensors, PyTorch, …); see ``loadBackbone(_:file:)``.
    public func loadBackbone(contentsOf url: URL) throws {
        let contents = try TensorFile.read(contentsOf: url.path)
        let weights = Dictionary(contents.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        try loadBackbone(weights, file: url.path)
    }

    public override var summary: String {
        let kind: String
        switch configuration.backbone {
        case .vit: kind = "ViT"
        case .swin: kind = "Swin"
        case .mobileNetV2: kind = "MobileNetV2"
        }
        return "ImageEncoder(\(kind) → \(configuration.dimension)\(configuration.modalityTags ? ", modality tags" : ""))"
    }
}
