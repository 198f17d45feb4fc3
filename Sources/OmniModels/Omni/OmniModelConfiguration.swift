// The Codable description of an omni-modal model: which encoders, the shared width, the fusion and
// the heads. `config.json` in a model folder is this struct.
import Foundation
import OmniData
import OmniNN

/// Fusion settings: router kind, co-attention depth and heads.
public struct FusionConfiguration: Codable, Sendable, Equatable {
    /// `dynamic` (per-sample gates from pooled features + task) or `fixed` (ablation).
    public var kind: FusionKind
    /// Co-attention blocks (0: streams are only gated and concatenated).
    public var depth: Int
    public var heads: Int
    public var mlpRatio: Int
    /// Width of each router gate network (default: the model dimension).
    public var gateHiddenSize: Int?
    public var dropout: Float

    public init(kind: FusionKind = .dynamic, depth: Int = 1, heads: Int = 4, mlpRatio: Int = 4,
                gateHiddenSize: Int? = nil, dropout: Float = 0) {
        self.kind = kind; self.depth = depth; self.heads = heads; self.mlpRatio = mlpRatio
        self.gateHiddenSize = gateHiddenSize; self.dropout = dropout
    }
}

/// Heads on top of the encoders and the fused tokens.
public struct HeadsConfiguration: Codable, Sendable, Equatable {
    /// Width E of the shared, L2-normalised embedding space (one projection per modality).
    public var embeddingDimension: Int
    /// Hidden width of the projection MLPs (nil: a single linear map).
    public var projectionHiddenSize: Int?
    /// Classes of the classification head on the pooled fused tokens (nil: no classifier).
    public var classCount: Int?
    /// The text decoder (captions, answers, reports); its vocabulary must match the tokenizer.
    public var decoder: TextDecoderConfig?

    public init(embeddingDimension: Int, projectionHiddenSize: Int? = nil, classCount: Int? = nil,
                decoder: TextDecoderConfig? = nil) {
        self.embeddingDimension = embeddingDimension; self.projectionHiddenSize = projectionHiddenSize
        self.classCount = classCount; self.decoder = decoder
    }
}

/// Which tokenizer the text encoder and decoder use; the file lives in the model folder.
public struct TokenizerConfiguration: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// A tiktoken-format BPE rank file (`TiktokenTokenizer`, e.g. trained with `BPETrainer`).
        case tiktoken
        /// A Hugging Face `tokenizer.json` (WordPiece or byte-level BPE).
        case huggingFace = "hugging_face"
    }

    public var kind: Kind
    /// File name inside the model folder.
    public var file: String
    /// Pre-tokenizer split pattern for `tiktoken` files.
    public var pattern: String?
    /// Special tokens and their ids (padding, begin/end of sequence, …).
    public var specialTokens: [String: Int]

    public init(kind: Kind, file: String, pattern: String? = nil, specialTokens: [String: Int] = [:]) {
        self.kind = kind; self.file = file; self.pattern = pattern; self.specialTokens = specialTokens
    }
}

/// An omni-modal model: per-modality encoders into a shared width `dimension`, the dynamic
/// attention router and co-attention, and heads.
///
/// ```swift
/// let config = OmniModelConfiguration.preset("tiny")!
/// let model = OmniModel(config, generator: Generator(seed: 0))
/// ```
public struct OmniModelConfiguration: Codable, Sendable, Equatable {
    public var name: String
    /// Shared token width D of every encoder's output, the router and the fusion.
    public var dimension: Int
    public var text: TextEncoderConfig?
    public var image: ImageEncoderConfiguration?
    public var audio: AudioEncoderConfig?
    public var video: VideoEncoderConfiguration?
    public var signal: SignalEncoderConfig?
    public var fusion: FusionConfiguration
    public var heads: HeadsConfiguration
    /// Task names, in the order of the task-embedding table (default: the built-in registry's).
    public var tasks: [String]
    public var tokenizer: TokenizerConfiguration?

    public init(name: String, dimension: Int, text: TextEncoderConfig? = nil, image: ImageEncoderConfiguration? = nil,
                audio: AudioEncoderConfig? = nil, video: VideoEncoderConfiguration? = nil, signal: SignalEncoderConfig? = nil,
                fusion: FusionConfiguration = .init(), heads: HeadsConfiguration, tasks: [String]? = nil,
                tokenizer: TokenizerConfiguration? = nil) {
        self.name = name; self.dimension = dimension
        self.text = text; self.image = image; self.audio = audio; self.video = video; self.signal = signal
        self.fusion = fusion; self.heads = heads
        self.tasks = tasks ?? TaskRegistry.builtIn.tasks.map(\.name)
        self.tokenizer = tokenizer
    }

    /// The modalities this model encodes (DICOM images go through the image encoder).
    public var modalities: [Modality] {
        var m: [Modality] = []
        if text != nil { m.append(.text) }
        if image != nil { m.append(.image) }
        if audio != nil { m.append(.audio) }
        if video != nil { m.append(.video) }
        if signal != nil { m.append(.signal) }
        return m
    }

    /// Every inconsistency, with the key that holds it; empty when the model can be built.
    public var problems: [String] {
        var out: [String] = []
        if dimension <= 0 { out.append("dimension must be positive, got \(dimension)") }
        if modalities.isEmpty { out.append("no encoder: give at least one of text, image, audio, video, signal") }
        func width(_ key: String, _ d: Int?, _ problem: String?) {
            if let problem { out.append("\(key): \(problem)") }
            if let d, d != dimension { out.append("\(key).dimension is \(d) but the model dimension is \(dimension)") }
        }
        width("text", text?.dimension, text?.problem)
        width("image", image?.dimension, image?.problem)
        width("audio", audio?.dimension, audio?.problem)
        width("video", video?.frames.dimension, video?.problem)
        width("signal", signal?.dimension, signal?.problem)
        if fusion.heads <= 0 || dimension % max(fusion.heads, 1) != 0 { out.append("fusion.heads \(fusion.heads) must divide dimension \(dimension)") }
        if fusion.depth < 0 || fusion.mlpRatio <= 0 { out.append("fusion.depth must be ≥ 0 and fusion.mlpRatio positive") }
        if heads.embeddingDimension <= 0 { out.append("heads.embeddingDimension must be positive") }
        if let c = heads.classCount, c <= 0 { out.append("heads.classCount must be positive, got \(c)") }
        if let d = heads.decoder {
            if let p = d.problem { out.append("heads.decoder: \(p)") }
            if d.contextDimension != dimension { out.append("heads.decoder.contextDimension is \(d.contextDimension) but the model dimension is \(dimension)") }
            if let t = text, t.backbone == .rotary, t.vocabSize != d.vocabSize {
                out.append("heads.decoder.vocabSize \(d.vocabSize) differs from text.vocabSize \(t.vocabSize) (one tokenizer serves both)")
            }
        }
        if tasks.isEmpty { out.append("tasks must name at least one task") }
        if Set(tasks).count != tasks.count { out.append("tasks has duplicate names") }
        return out
    }

    /// Reads `config.json`; errors name the file and the key.
    public static func load(contentsOf url: URL) throws -> OmniModelConfiguration {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw OmniModelError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(OmniModelConfiguration.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw OmniModelError(file: url.path, "missing key '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw OmniModelError(file: url.path, "bad value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw OmniModelError(file: url.path, "invalid JSON at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)")
        } catch {
            throw OmniModelError(file: url.path, "\(error)")
        }
    }

    /// Writes pretty, key-sorted JSON atomically.
    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }
}

/// A model folder or configuration that cannot be used.
public struct OmniModelError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let message: String
    public init(file: String, _ message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}
