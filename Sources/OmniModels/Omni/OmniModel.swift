// The omni-modal model (DESIGN.md §1): modality encoders → modality-type embeddings → dynamic
// attention router → co-attention → fused tokens (with a task token) → heads (contrastive
// projections, classifier, text decoder).
import Foundation
import OmniData
import OmniNN
import OmniTensor

/// One batch of inputs: any subset of the modalities (each encoder's own padded batch type), the
/// task of each sample and optional gate policies. Every given modality must have the same batch
/// size B; a sample without a modality has an all-false mask row in that modality's batch.
public struct OmniInput: @unchecked Sendable {
    public var text: TextEncoder.Batch?
    public var image: ImageBatch?
    public var audio: AudioEncoder.Batch?
    public var video: VideoBatch?
    public var signal: SignalEncoder.Batch?
    /// Task index per sample (into the configuration's `tasks`).
    public var tasks: [Int]
    /// Router bounds: none, one for all samples, or one per sample.
    public var policies: [GatePolicy]

    public init(text: TextEncoder.Batch? = nil, image: ImageBatch? = nil, audio: AudioEncoder.Batch? = nil,
                video: VideoBatch? = nil, signal: SignalEncoder.Batch? = nil, tasks: [Int], policies: [GatePolicy] = []) {
        self.text = text; self.image = image; self.audio = audio; self.video = video; self.signal = signal
        self.tasks = tasks; self.policies = policies
    }
}

/// What fusion produces.
public struct FusedOutput: @unchecked Sendable {
    /// Each encoder's tokens with the modality-type embedding added (before gating).
    public var encoded: [Modality: ModalityTokens]
    /// Gates [B, M] and the gated streams.
    public var routed: RoutedModalities
    /// The fused sequence [B, 1 + ΣN, D]: the task token, then each modality's co-attended tokens
    /// in ``Modality`` order (see ``segments``).
    public var fused: ModalityTokens
    /// Where each modality's tokens sit in ``fused`` (the task token is position 0).
    public var segments: [KeySegment]
    /// Mean of the real fused tokens, the task token included: [B, D].
    public var pooled: Tensor
    /// Co-attention maps per block (when requested).
    public var maps: [[Modality: CoAttentionMap]]
}

/// An omni-modal model built from an ``OmniModelConfiguration``.
///
/// Keys: `text_encoder`, `image_encoder`, `audio_encoder`, `video_encoder`, `signal_encoder`,
/// `modality_embed` [6, D], `task_embed` [tasks, D], `router`, `co_attention`, `fusion_norm`,
/// `projections.<modality>`, `classifier`, `decoder`.
///
/// ```swift
/// let model = OmniModel(.preset("tiny")!, generator: Generator(seed: 0))
/// let out = model(OmniInput(text: text, image: images, tasks: [0, 0]))
/// let answer = model.decoder!.generate(context: out.fused, prompts: [[bos], [bos]],
///                                      options: GenerationOptions(maxNewTokens: 8))
/// ```
public final class OmniModel: Module, @unchecked Sendable {
    @ModuleInfo(key: "text_encoder") public var textEncoder: TextEncoder?
    @ModuleInfo(key: "image_encoder") public var imageEncoder: ImageEncoder?
    @ModuleInfo(key: "audio_encoder") public var audioEncoder: AudioEncoder?
    @ModuleInfo(key: "video_encoder") public var videoEncoder: VideoEncoder?
    @ModuleInfo(key: "signal_encoder") public var signalEncoder: SignalEncoder?
    @ModuleInfo(key: "modality_embed") public var modalityEmbedding: Embedding
    @ModuleInfo(key: "task_embed") public var taskEmbedding: Embedding
    @ModuleInfo(key: "router") public var router: DynamicAttentionRouter
    @ModuleInfo(key: "co_attention") public var coAttention: CoAttention
    @ModuleInfo(key: "fusion_norm") public var fusionNorm: LayerNorm
    @ModuleInfo(key: "projections") public var projections: [String: ProjectionHead]
    @ModuleInfo(key: "classifier") public var classifier: ClassificationHead?
    @ModuleInfo(key: "decoder") public var decoder: TextDecoder?
    public let configuration: OmniModelConfiguration

    /// Builds the model; the configuration must have no ``OmniModelConfiguration/problems``.
    public init(_ configuration: OmniModelConfiguration, generator: Generator) {
        let problems = configuration.problems
        precondition(problems.isEmpty, "OmniModel \(configuration.name): " + problems.joined(separator: "; "))
        self.configuration = configuration
        super.init()
        let c = configuration, d = c.dimension
        textEncoder = c.text.map { TextEncoder($0, generator: generator) }
        imageEncoder = c.image.map { ImageEncoder($0, generator: generator) }
        audioEncoder = c.audio.map { AudioEncoder($0, generator: generator) }
        videoEncoder = c.video.map { VideoEncoder($0, generator: generator) }
        signalEncoder = c.signal.map { SignalEncoder($0, generator: generator) }
        modalityEmbedding = Embedding(Modality.allCases.count, d, generator: generator)
        modalityEmbedding.weight = modalityEmbedding.weight * 0.02
        taskEmbedding = Embedding(c.tasks.count, d, generator: generator)
        taskEmbedding.weight = taskEmbedding.weight * 0.02
        router = DynamicAttentionRouter(modalities: c.modalities, dimension: d, taskDimension: d,
                                        hiddenSize: c.fusion.gateHiddenSize, kind: c.fusion.kind, generator: generator)
        coAttention = CoAttention(modalities: c.modalities, dimension: d, heads: c.fusion.heads, depth: c.fusion.depth,
                                  mlpHiddenSize: c.fusion.mlpRatio * d, dropout: c.fusion.dropout, generator: generator)
        fusionNorm = LayerNorm(d)
        var heads: [String: ProjectionHead] = [:]
        for m in c.modalities {
            heads[m.rawValue] = ProjectionHead(inputDimension: d, outputDimension: c.heads.embeddingDimension,
                                               hiddenSize: c.heads.projectionHiddenSize, generator: generator)
        }
        projections = heads
        classifier = c.heads.classCount.map { ClassificationHead(inputDimension: d, classCount: $0, generator: generator) }
        decoder = c.heads.decoder.map { TextDecoder($0, generator: generator) }
    }

    /// The index of a task name in the task-embedding table.
    public func taskIndex(_ name: String) -> Int? { configuration.tasks.firstIndex(of: name) }

    // MARK: Encoding

    /// Runs the encoder of every modality present in `input`, and adds the modality-type embedding.
    public func encode(_ input: OmniInput) -> [Modality: ModalityTokens] {
        encode(input, returnImageAttention: false).encoded
    }

    /// ``encode(_:)``, and with `returnImageAttention` the image encoder's self-attention weights
    /// per block ([B, H, N, N] each; ViT backbones only, see ``ImageEncoder``), for explanations.
    public func encode(_ input: OmniInput, returnImageAttention: Bool)
        -> (encoded: [Modality: ModalityTokens], imageAttention: [Tensor]) {
        var out: [Modality: ModalityTokens] = [:]
        var imageAttention: [Tensor] = []
        func need<E>(_ encoder: E?, _ m: Modality) -> E {
            guard let encoder else { preconditionFailure("OmniModel \(configuration.name): the input has \(m.rawValue) but the model has no \(m.rawValue) encoder") }
            return encoder
        }
        if let b = input.text { out[.text] = need(textEncoder, .text)(b) }
        if let b = input.image {
            let r = need(imageEncoder, .image)(b, returnAttention: returnImageAttention)
            out[.image] = r.tokens
            imageAttention = r.attention
        }
        if let b = input.audio {
            // encode only the rows that have audio: a mixed batch often has few
            let present = b.lengths.indices.filter { b.lengths[$0] > 0 }
            let encoder = need(audioEncoder, .audio)
            if present.count == b.lengths.count || present.isEmpty {
                out[.audio] = encoder(b)
            } else {
                let rows = Tensor(present)
                let sub = b.kind == .logMel
                    ? AudioEncoder.Batch(logMel: b.values.indexSelect(axis: 0, indices: rows), frames: present.map { b.lengths[$0] })
                    : AudioEncoder.Batch(waveforms: b.values.indexSelect(axis: 0, indices: rows), lengths: present.map { b.lengths[$0] })
                let t = encoder(sub)
                out[.audio] = ImageEncoder.scatter(t.tokens, mask: t.mask, present: present, batchSize: b.lengths.count)
            }
        }
        if let b = input.video { out[.video] = need(videoEncoder, .video)(b) }
        if let b = input.signal {
            let present = b.lengths.indices.filter { b.lengths[$0] > 0 && b.channelCounts[$0] > 0 }
            let encoder = need(signalEncoder, .signal)
            if present.count == b.lengths.count || present.isEmpty {
                out[.signal] = encoder(b)
            } else {
                let sub = SignalEncoder.Batch(values: b.values.indexSelect(axis: 0, indices: Tensor(present)),
                                              lengths: present.map { b.lengths[$0] }, channelCounts: present.map { b.channelCounts[$0] },
                                              sampleRate: b.sampleRate)
                let t = encoder(sub)
                out[.signal] = ImageEncoder.scatter(t.tokens, mask: t.mask, present: present, batchSize: b.lengths.count)
            }
        }
        precondition(!out.isEmpty, "OmniModel: the input has no modality")
        let sizes = Set(out.values.map(\.batchSize))
        precondition(sizes.count == 1, "OmniModel: modalities have different batch sizes \(out.mapValues(\.batchSize))")
        for (m, t) in out {
            let index = Modality.allCases.firstIndex(of: m)!
            let type = modalityEmbedding.weight.narrowed(axis: 0, start: index, length: 1).reshaped([1, 1, configuration.dimension])
            out[m] = ModalityTokens(tokens: t.tokens + type, mask: t.mask).zeroingPadding()   // [B, N, D]
        }
        return (out, imageAttention)
    }

    /// Unit-length embeddings in the shared space, one [B, E] tensor per encoded modality.
    public func embeddings(_ encoded: [Modality: ModalityTokens]) -> [Modality: Tensor] {
        var out: [Modality: Tensor] = [:]
        for (m, t) in encoded {
            guard let head = projections[m.rawValue] else { preconditionFailure("OmniModel: no projection for \(m.rawValue)") }
            out[m] = head(t)
        }
        return out
    }

    // MARK: Fusion

    /// Gates the encoded streams, exchanges information by co-attention and concatenates them
    /// behind a task token.
    public func fuse(_ encoded: [Modality: ModalityTokens], tasks: [Int], policies: [GatePolicy] = [],
                     returnMaps: Bool = false) -> FusedOutput {
        let b = encoded.values.first!.batchSize
        precondition(tasks.count == b, "OmniModel.fuse: \(tasks.count) task indices for a batch of \(b)")
        for t in tasks {
            precondition(t >= 0 && t < configuration.tasks.count, "OmniModel.fuse: task index \(t) is outside 0..<\(configuration.tasks.count)")
        }
        let task = taskEmbedding(Tensor(tasks, shape: [b], dtype: .int64))                     // [B, D]
        let routed = router(encoded, taskEmbedding: task, policies: policies)
        let co = coAttention(routed.streams, returnMaps: returnMaps)
        var parts = [task.unsqueezed(axis: 1)], masks = [Tensor.ones([b, 1], dtype: .bool)]
        var segments: [KeySegment] = []
        var start = 1
        for m in co.streams.keys.sorted() {
            let s = co.streams[m]!
            parts.append(s.tokens); masks.append(s.mask)
            segments.append(KeySegment(modality: m, range: start..<(start + s.length)))
            start += s.length
        }
        let fused = ModalityTokens(tokens: fusionNorm(Tensor.concatenated(parts, axis: 1)),
                                   mask: Tensor.concatenated(masks, axis: 1)).zeroingPadding()   // [B, 1 + ΣN, D]
        return FusedOutput(encoded: encoded, routed: routed, fused: fused, segments: segments, pooled: fused.pooled(),
                           maps: co.maps)
    }

    /// Encodes and fuses.
    public func callAsFunction(_ input: OmniInput, returnMaps: Bool = false) -> FusedOutput {
        fuse(encode(input), tasks: input.tasks, policies: input.policies, returnMaps: returnMaps)
    }

    /// Class logits [B, classes] from the pooled fused tokens.
    public func classify(_ output: FusedOutput) -> Tensor {
        guard let classifier else { preconditionFailure("OmniModel \(configuration.name): no classifier (heads.classCount is not set)") }
        return classifier(output.pooled)
    }

    // MARK: Parameters by part

    /// Parameter counts per encoder, the fusion (embeddings, router, co-attention) and each head.
    public func parameterCounts() -> [(part: String, count: Int)] {
        var parts: [(String, Int)] = []
        for (key, module) in namedChildren() {
            parts.append((key, module.parameterCount))
        }
        return parts
    }

    public override var summary: String { "OmniModel(\(configuration.name), D \(configuration.dimension), \(configuration.modalities.map(\.rawValue).joined(separator: "+")))" }
}

extension OmniModel {
    /// The weights file in a model folder.
    public static let weightsFile = "model.safetensors"
    /// The configuration file in a model folder.
    public static let configurationFile = "config.json"

    /// Writes `config.json` and `model.safetensors` (atomically) into `directory`.
    public func save(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try configuration.write(to: directory.appending(path: OmniModel.configurationFile))
        let tensors = namedParameters().map { (name: $0.path, tensor: $0.tensor.contiguous()) }
        try SafeTensors.write(tensors, metadata: ["format": "omni", "name": configuration.name],
                              to: directory.appending(path: OmniModel.weightsFile).path)
    }

    /// Reads a model folder strictly: every parameter must be in the file with its shape, and the
    /// file may hold nothing else.
    public static func load(from directory: URL) throws -> OmniModel {
        let configURL = directory.appending(path: configurationFile)
        let configuration = try OmniModelConfiguration.load(contentsOf: configURL)
        let problems = configuration.problems
        guard problems.isEmpty else { throw OmniModelError(file: configURL.path, problems.joined(separator: "; ")) }
        let model = OmniModel(configuration, generator: Generator(seed: 0))
        let weightsPath = directory.appending(path: weightsFile).path
        let contents = try SafeTensors.read(contentsOf: weightsPath)
        try model.load(Dictionary(contents.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }),
                       strict: true, file: weightsPath)
        return model
    }
}
