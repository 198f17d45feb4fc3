// The loss of each stage on a batch of prepared samples.
import OmniData
import OmniModels
import OmniNN
import OmniTensor

/// What one step of a stage computed, for logs.
public struct StepLosses: Sendable {
    public var total: Float
    public var parts: [String: Float]
}

public enum StageObjective {
    /// Pre-training on one modality's batch: masked tokens (text), masked patches (images),
    /// masked frames (audio). Returns the scalar loss and its name.
    public static func pretrain(_ modules: TrainingModules, corpus: PreparedCorpus, modality: Modality, indices: [Int],
                                generator: Generator) -> (loss: Tensor, name: String) {
        let model = modules.model
        let b = indices.count
        switch modality {
        case .text:
            let batch = TextEncoder.Batch(sequences: indices.map { corpus.samples[$0].text ?? [] }, padID: corpus.padID)
            let corrupted = Masking.corruptTokens(batch.ids, eligible: batch.mask, ratio: 0.15, maskTokenID: corpus.maskID,
                                                  vocabularySize: corpus.tokenizer.vocabularySize, generator: generator)
            let tokens = model.textEncoder!(TextEncoder.Batch(ids: corrupted.inputs, mask: batch.mask)).tokens    // [B, T, D]
            let logits = tokens.matmul(model.textEncoder!.tokenEmbedding!.weight.transposed())              // [B, T, V]
            return (MaskedTokenLoss()(logits: logits, targets: batch.ids, mask: corrupted.mask), "mlm")
        case .image:
            let p = modules.patchSize!
            let images = Tensor.stacked(indices.map { corpus.samples[$0].image! })                        // [B, 3, S, S]
            let side = images.shape[2], grid = side / p
            let mask = Masking.randomMask(batchSize: b, length: grid * grid, ratio: 0.4, generator: generator)   // [B, N]
            // zero the masked patches' pixels
            let keep = mask.logicalNot().converted(to: .float32).reshaped([b, 1, grid, 1, grid, 1])
            let masked = (images.reshaped([b, 3, grid, p, grid, p]) * keep).reshaped([b, 3, side, side])
            let tokens = model.imageEncoder!(ImageBatch(stacked: masked)).tokens                          // [B, 1 + N, D]
            let patches = tokens.narrowed(axis: 1, start: tokens.shape[1] - grid * grid, length: grid * grid)
            let prediction = modules.pretrainHeads["image_patches"]!(patches)                              // [B, N, 3p²]
            let target = images.patchified(patchSize: p)                                                   // [B, N, 3p²]
            return (MaskedPatchLoss(normalizeTargets: true)(prediction: prediction, target: target, mask: mask), "mpm")
        case .audio:
            let mels = indices.map { corpus.samples[$0].audio! }
            let frames = mels.map { $0.shape[1] }, t = frames.max()!
            let tokensPerClip = frames.map { ($0 + 1) / 2 }, n = (t + 1) / 2
            let mask = Masking.spanMask(batchSize: b, length: n, ratio: 0.3, spanLength: 5, lengths: tokensPerClip, generator: generator)
            let even = 2 * n
            let mel = Tensor.stacked(mels.map { $0.padded([(0, 0), (0, even - $0.shape[1])]) })           // [B, 80, 2n]
            let keep = mask.logicalNot().converted(to: .float32).reshaped([b, 1, n, 1])
            let input = (mel.reshaped([b, 80, n, 2]) * keep).reshaped([b, 80, even])
            let out = model.audioEncoder!(AudioEncoder.Batch(logMel: input, frames: frames)).tokens         // [B, n, D]
            let prediction = modules.pretrainHeads["audio_frames"]!(out)                                   // [B, n, 160]
            let target = mel.reshaped([b, 80, n, 2]).permuted([0, 2, 1, 3]).reshaped([b, n, 160])
            return (MaskedFrameLoss()(prediction: prediction, target: target, mask: mask), "mfm")
        default:
            preconditionFailure("pretrain: no objective for \(modality.rawValue)")
        }
    }

    /// The indices grouped by the set of modalities their samples carry, groups in order of first
    /// appearance and indices in batch order within each.
    ///
    /// Encoders and fusion see each group as its own batch: a mixed batch would carry every sample
    /// through every stream — an image question padded with a recording's 150 audio tokens and a
    /// clip's frames through co-attention and the decoder's cross-attention, an image row through
    /// the audio encoder as zeros. Every encoder and the fusion keep padded positions at exactly
    /// 0 and never attend to them, so a sample's outputs do not depend on its batch: grouping
    /// changes the cost, not the results (up to float rounding).
    public static func groupedByModalities(_ indices: [Int], corpus: PreparedCorpus) -> [[Int]] {
        groupPositions(indices, corpus: corpus).map { $0.map { indices[$0] } }
    }

    /// ``groupedByModalities(_:corpus:)`` as positions into `indices`.
    static func groupPositions(_ indices: [Int], corpus: PreparedCorpus) -> [[Int]] {
        var order: [[Modality]] = [], groups: [[Modality]: [Int]] = [:]
        for (position, i) in indices.enumerated() {
            let key = corpus.samples[i].modalities.sorted()
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(position)
        }
        return order.map { groups[$0]! }
    }

    /// Contrastive alignment of every modality in the batch to text (InfoNCE, learnable temperature).
    /// Each group of samples with the same modalities is encoded as its own batch (see
    /// ``groupedByModalities(_:corpus:)``); the loss is the one over the whole batch.
    public static func align(_ modules: TrainingModules, corpus: PreparedCorpus, indices: [Int], taskIndex: Int)
        -> (loss: Tensor, parts: [String: Tensor]) {
        let model = modules.model
        let groups = groupedByModalities(indices, corpus: corpus)
        let all = indices.reduce(into: Set<Modality>()) { $0.formUnion(corpus.samples[$1].modalities) }
        var rows: [Modality: [Tensor]] = [:], present: [Modality: [Tensor]] = [:]
        for group in groups {
            let modalities = corpus.samples[group[0]].modalities
            let input = corpus.input(group, modalities: modalities, tasks: Array(repeating: taskIndex, count: group.count))
            let encoded = model.encode(input)
            let embeddings = model.embeddings(encoded)                                          // each [n, E]
            let width = embeddings.values.first?.shape[1] ?? model.configuration.heads.embeddingDimension
            for m in all {
                rows[m, default: []].append(embeddings[m] ?? Tensor.zeros([group.count, width]))
                present[m, default: []].append(encoded[m]?.isPresent ?? Tensor.zeros([group.count], dtype: .bool))
            }
        }
        let embeddings = rows.mapValues { Tensor.concatenated($0, axis: 0) }                     // [B, E], rows by group
        let presence = present.mapValues { Tensor.concatenated($0, axis: 0) }                    // bool [B]
        let out = ContrastiveLoss(pairing: .anchor(.text))(embeddings, presence: presence, scale: modules.logitScale())
        var parts: [String: Tensor] = [:]
        for (pair, loss) in out.pairs { parts["\(pair)"] = loss }
        return (out.total, parts)
    }

    /// Instruction tuning: the prompt (rendered from the task registry) and the sample's other
    /// modalities are fused; the decoder learns the target by teacher forcing. Each group of
    /// samples with the same modalities is fused as its own batch (see
    /// ``groupedByModalities(_:corpus:)``); the loss is the groups' token-mean cross-entropies
    /// weighted by their share of the batch's samples.
    public static func instruct(_ modules: TrainingModules, corpus: PreparedCorpus, indices: [Int], generator: Generator?,
                                phrasing: Int? = nil) -> Tensor {
        let prompts = instructionPrompts(corpus: corpus, indices: indices, generator: generator, phrasing: phrasing)
        var total: Tensor? = nil
        for positions in groupPositions(indices, corpus: corpus) {
            let group = positions.map { indices[$0] }, groupPrompts = positions.map { prompts[$0] }
            let input = instructionInput(modules.model, corpus: corpus, indices: group, prompts: groupPrompts)
            let fused = modules.model(input).fused
            // the decoder reads the prompt too (as a prefix), so it knows what is asked
            let (ids, targets) = corpus.decoderTargets(group, prefixes: groupPrompts, maxLength: modules.model.decoder!.config.maxLength)
            let loss = modules.model.decoder!.loss(ids, targets: targets, context: fused) * (Float(group.count) / Float(indices.count))
            total = total.map { $0 + loss } ?? loss
        }
        return total!
    }

    /// The instruction prompt tokens of each sample (phrasing fixed, or drawn from `generator`).
    public static func instructionPrompts(corpus: PreparedCorpus, indices: [Int], generator: Generator?, phrasing: Int? = nil) -> [[Int]] {
        indices.map { i -> [Int] in
            let text = InstructionPrompt.text(for: corpus.samples[i], phrasing: phrasing, generator: generator)
            return Array(corpus.tokenizer.encode(text, addSpecialTokens: false).prefix(corpus.preparation.maxTextTokens))
        }
    }

    /// The model input of an instruction batch: prompt tokens as text, plus the samples' non-text
    /// modalities; tasks from the samples' task names.
    public static func instructionInput(_ model: OmniModel, corpus: PreparedCorpus, indices: [Int], prompts: [[Int]]) -> OmniInput {
        var present = indices.reduce(into: Set<Modality>()) { $0.formUnion(corpus.samples[$1].modalities) }
        present.remove(.text)
        let tasks = indices.map { model.taskIndex(corpus.samples[$0].task) ?? 0 }
        var input = corpus.input(indices, modalities: present, tasks: tasks)
        input.text = TextEncoder.Batch(sequences: prompts, padID: corpus.padID)
        return input
    }
}
