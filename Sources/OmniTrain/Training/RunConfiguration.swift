// RUN.json: what `omni train` does — the model, the corpus, and the stages with their optimiser
// settings.
import Foundation
import OmniData
import OmniModels

/// The three training stages of the article.
public enum StageKind: String, Codable, Sendable, CaseIterable {
    /// Each encoder on its own modality: masked tokens (text), masked patch reconstruction
    /// (images), masked frame prediction (audio).
    case pretrain
    /// Contrastive (InfoNCE) alignment of every modality to the text anchor.
    case align
    /// Instruction tuning: the decoder answers the task mixture's prompts from the fused tokens.
    case instruct
}

/// A contrastive term added to a non-alignment stage's loss: each step also draws `batchSize`
/// (modality, text) pairs with `modalityWeights` (as the align stage does, only describing texts)
/// and adds `weight` × their symmetric InfoNCE at the temperature alignment learned. It keeps an
/// encoder that a stage unfreezes tied to the shared space — e.g. instruction tuning that adapts
/// the image encoder while the text encoder, the anchor, stays frozen.
public struct AlignmentTerm: Codable, Sendable, Equatable {
    public var weight: Float
    public var batchSize: Int
    public var modalityWeights: ModalityWeights

    public init(weight: Float = 1, batchSize: Int = 32,
                modalityWeights: ModalityWeights = ModalityWeights(text: 0, image: 1, audio: 0, video: 0, dicom: 0, signal: 0)) {
        self.weight = weight; self.batchSize = batchSize; self.modalityWeights = modalityWeights
    }
}

/// One stage's schedule and optimiser settings.
public struct StageConfiguration: Codable, Sendable, Equatable {
    public var kind: StageKind
    public var steps: Int
    public var batchSize: Int
    public var learningRate: Float
    public var warmupSteps: Int
    public var weightDecay: Float
    /// Global gradient-norm clip (nil: none).
    public var clipNorm: Float?
    /// Micro-batches per optimiser step.
    public var accumulation: Int
    /// Parameter globs to freeze in this stage (e.g. `"*_encoder.*"` to align frozen encoders).
    public var freeze: [String]
    /// Sampling weights per primary modality (align and instruct).
    public var modalityWeights: ModalityWeights
    /// Evaluate on the validation manifest every this many steps (0: only at the end).
    public var evaluateEvery: Int
    /// Stop the stage after this many evaluations without improvement (nil: never).
    public var patience: Int?
    /// A contrastive term added to this stage's loss (instruct only; nil: none).
    public var alignment: AlignmentTerm?

    public init(kind: StageKind, steps: Int, batchSize: Int = 32, learningRate: Float = 1e-3, warmupSteps: Int = 20,
                weightDecay: Float = 0.01, clipNorm: Float? = 1, accumulation: Int = 1, freeze: [String] = [],
                modalityWeights: ModalityWeights = ModalityWeights(text: 0, image: 3, audio: 3, video: 1, dicom: 0, signal: 1),
                evaluateEvery: Int = 0, patience: Int? = nil, alignment: AlignmentTerm? = nil) {
        self.kind = kind; self.steps = steps; self.batchSize = batchSize; self.learningRate = learningRate
        self.warmupSteps = warmupSteps; self.weightDecay = weightDecay; self.clipNorm = clipNorm
        self.accumulation = accumulation; self.freeze = freeze; self.modalityWeights = modalityWeights
        self.evaluateEvery = evaluateEvery; self.patience = patience; self.alignment = alignment
    }
}

/// A training run.
public struct RunConfiguration: Codable, Sendable, Equatable {
    /// A preset name (`tiny`, `small`, `base`) …
    public var preset: String?
    /// … or a full model configuration (wins over `preset`).
    public var model: OmniModelConfiguration?
    /// Folder with `train.jsonl`, `validation.jsonl` (and `test.jsonl` for `omni eval`).
    public var corpus: String
    /// BPE vocabulary trained on the corpus (≤ the model's text vocabulary).
    public var vocabularySize: Int
    public var seed: UInt64
    public var threads: Int
    public var stages: [StageConfiguration]
    public var checkpointEvery: Int
    public var keepCheckpoints: Int

    public init(preset: String? = "tiny", model: OmniModelConfiguration? = nil, corpus: String, vocabularySize: Int = 1024,
                seed: UInt64 = 0, threads: Int = 2, stages: [StageConfiguration], checkpointEvery: Int = 100,
                keepCheckpoints: Int = 3) {
        self.preset = preset; self.model = model; self.corpus = corpus; self.vocabularySize = vocabularySize
        self.seed = seed; self.threads = threads; self.stages = stages; self.checkpointEvery = checkpointEvery
        self.keepCheckpoints = keepCheckpoints
    }

    /// The model configuration this run trains (text and decoder vocabularies sized to the
    /// tokenizer).
    public func modelConfiguration() throws -> OmniModelConfiguration {
        guard var c = model ?? preset.flatMap(OmniModelConfiguration.preset) else {
            throw OmniModelError(file: "RUN.json", "give 'model' or a known 'preset' (\(OmniModelConfiguration.presetNames.joined(separator: ", ")))")
        }
        c.text?.vocabSize = vocabularySize
        c.heads.decoder?.vocabSize = vocabularySize
        return c
    }

    /// Every problem, naming the key.
    public var problems: [String] {
        var out: [String] = []
        if stages.isEmpty { out.append("stages: give at least one stage") }
        for (i, s) in stages.enumerated() {
            if s.steps < 0 { out.append("stages.\(i).steps must not be negative") }
            if s.batchSize < 2 { out.append("stages.\(i).batchSize must be at least 2 (contrastive pairs need two samples)") }
            if s.accumulation < 1 { out.append("stages.\(i).accumulation must be at least 1") }
            if !(s.learningRate > 0) { out.append("stages.\(i).learningRate must be positive") }
            if let a = s.alignment {
                if s.kind != .instruct { out.append("stages.\(i).alignment: only an instruct stage takes an alignment term") }
                if a.batchSize < 2 { out.append("stages.\(i).alignment.batchSize must be at least 2") }
                if !(a.weight > 0) { out.append("stages.\(i).alignment.weight must be positive") }
            }
        }
        if vocabularySize < 256 + SpecialToken.all.count { out.append("vocabularySize must be at least \(256 + SpecialToken.all.count)") }
        if threads < 1 { out.append("threads must be at least 1") }
        if checkpointEvery < 1 { out.append("checkpointEvery must be at least 1") }
        return out
    }

    /// The demo's run: the `tiny` preset through the three stages.
    public static func demo(corpus: String, seed: UInt64 = 0, scale: Double = 1) -> RunConfiguration {
        func n(_ steps: Int) -> Int { max(1, Int(Double(steps) * scale)) }
        return RunConfiguration(
            preset: "tiny", corpus: corpus, vocabularySize: 512, seed: seed, threads: 2,
            stages: [
                StageConfiguration(kind: .pretrain, steps: n(60), batchSize: 32, learningRate: 1e-3, warmupSteps: 10),
                // images 4 : audio 2 : video ½ : signal 1 — a video clip costs eight image encodings
                StageConfiguration(kind: .align, steps: n(500), batchSize: 64, learningRate: 1e-3, warmupSteps: 30,
                                   modalityWeights: ModalityWeights(text: 0, image: 4, audio: 2, video: 0.5, dicom: 0, signal: 1)),
                // The text, audio, video and signal encoders and their projections keep what
                // alignment taught them (instruction tuning alone would let the shared space drift:
                // retrieval fell from 0.59 to 0.14 R@1 in a trial run that trained them). The image
                // encoder keeps learning — VQA needs shapes and counts out of its tokens — held to
                // the frozen text anchor by a contrastive term on image–caption pairs. The router,
                // co-attention and the decoder, which reads the prompt as a prefix, learn the tasks.
                StageConfiguration(kind: .instruct, steps: n(400), batchSize: 48, learningRate: 7e-4, warmupSteps: 30,
                                   freeze: ["model.text_encoder.*", "model.audio_encoder.*", "model.video_encoder.*",
                                            "model.signal_encoder.*", "model.projections.text.*", "model.projections.audio.*",
                                            "model.projections.video.*", "model.projections.signal.*", "model.modality_embed.*"],
                                   modalityWeights: ModalityWeights(text: 0, image: 5, audio: 2, video: 0.5, dicom: 0, signal: 1),
                                   alignment: AlignmentTerm(weight: 1, batchSize: 32)),
            ],
            checkpointEvery: 50)
    }

    public static func load(contentsOf url: URL) throws -> RunConfiguration {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw OmniModelError(file: url.path, "cannot read: \(error.localizedDescription)") }
        do { return try JSONDecoder().decode(RunConfiguration.self, from: data) } catch {
            throw OmniModelError(file: url.path, "\(error)")
        }
    }
}

// MARK: - JSON with defaults

// RUN.json may leave out any key that has a default in the initialisers above; `kind` and
// `steps` (per stage), `corpus` and `stages` are required. An optional key written as `null`
// means "none" (e.g. `"clipNorm": null` turns clipping off), which is why nil values are written
// out as null rather than left out.

extension StageConfiguration {
    enum CodingKeys: String, CodingKey {
        case kind, steps, batchSize, learningRate, warmupSteps, weightDecay, clipNorm, accumulation, freeze, modalityWeights
        case evaluateEvery, patience, alignment
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kind: try c.decode(StageKind.self, forKey: .kind), steps: try c.decode(Int.self, forKey: .steps))
        batchSize = try c.value(.batchSize, or: batchSize)
        learningRate = try c.value(.learningRate, or: learningRate)
        warmupSteps = try c.value(.warmupSteps, or: warmupSteps)
        weightDecay = try c.value(.weightDecay, or: weightDecay)
        clipNorm = try c.optional(.clipNorm, or: clipNorm)
        accumulation = try c.value(.accumulation, or: accumulation)
        freeze = try c.value(.freeze, or: freeze)
        modalityWeights = try c.value(.modalityWeights, or: modalityWeights)
        evaluateEvery = try c.value(.evaluateEvery, or: evaluateEvery)
        patience = try c.optional(.patience, or: patience)
        alignment = try c.optional(.alignment, or: alignment)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind); try c.encode(steps, forKey: .steps); try c.encode(batchSize, forKey: .batchSize)
        try c.encode(learningRate, forKey: .learningRate); try c.encode(warmupSteps, forKey: .warmupSteps)
        try c.encode(weightDecay, forKey: .weightDecay); try c.encode(clipNorm, forKey: .clipNorm)
        try c.encode(accumulation, forKey: .accumulation); try c.encode(freeze, forKey: .freeze)
        try c.encode(modalityWeights, forKey: .modalityWeights); try c.encode(evaluateEvery, forKey: .evaluateEvery)
        try c.encode(patience, forKey: .patience); try c.encode(alignment, forKey: .alignment)
    }
}

extension RunConfiguration {
    enum CodingKeys: String, CodingKey {
        case preset, model, corpus, vocabularySize, seed, threads, stages, checkpointEvery, keepCheckpoints
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(corpus: try c.decode(String.self, forKey: .corpus), stages: try c.decode([StageConfiguration].self, forKey: .stages))
        preset = try c.optional(.preset, or: preset)
        model = try c.optional(.model, or: model)
        vocabularySize = try c.value(.vocabularySize, or: vocabularySize)
        seed = try c.value(.seed, or: seed)
        threads = try c.value(.threads, or: threads)
        checkpointEvery = try c.value(.checkpointEvery, or: checkpointEvery)
        keepCheckpoints = try c.value(.keepCheckpoints, or: keepCheckpoints)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(preset, forKey: .preset); try c.encode(model, forKey: .model); try c.encode(corpus, forKey: .corpus)
        try c.encode(vocabularySize, forKey: .vocabularySize); try c.encode(seed, forKey: .seed); try c.encode(threads, forKey: .threads)
        try c.encode(stages, forKey: .stages); try c.encode(checkpointEvery, forKey: .checkpointEvery)
        try c.encode(keepCheckpoints, forKey: .keepCheckpoints)
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or `current` when the key is absent.
    fileprivate func value<T: Decodable>(_ key: Key, or current: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? current
    }

    /// An optional setting: an absent key keeps `current`, `null` means nil.
    fileprivate func optional<T: Decodable>(_ key: Key, or current: T?) throws -> T? {
        contains(key) ? try decodeIfPresent(T.self, forKey: key) : current
    }
}
