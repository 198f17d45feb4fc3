// Held-out evaluation of an omni-modal model on a prepared manifest: cross-modal retrieval,
// visual question answering, generated captions/transcripts (BLEU-4, ROUGE-L), fault
// classification, router gate statistics per task, and the modality-bias score.
import Foundation
import OmniData
import OmniModels
import OmniNN
import OmniTensor

/// What `omni eval` and `omni demo` report.
public struct EvaluationReport: Codable, Sendable {
    /// "image→text" etc.: Recall@1/5/10 per direction, on the retrieval samples (each has an image,
    /// spoken audio and a caption of one scene; captions are distinct).
    public var retrieval: [String: [String: Double]]
    public var retrievalSamples: Int
    public var imageTextR1: Double?
    public var audioTextR1: Double?
    /// Image→audio R@1: never paired in training (zero-shot), and its chance level 1/N.
    public var imageAudioR1: Double?
    public var imageAudioChance: Double?
    /// Exact-match accuracy of generated answers on the question samples, per question kind too.
    public var vqaAccuracy: Double?
    public var vqaByKind: [String: Double]
    public var vqaQuestions: Int
    /// Chance: the mean over the question kinds of 1 / (number of possible answers).
    public var vqaChance: Double?
    /// Generated text tasks (captions, transcripts) scored against their targets.
    public var bleu4: Double?
    public var rougeL: Double?
    /// Fault classification accuracy of generated labels (vibration samples).
    public var classificationAccuracy: Double?
    /// Mean router gate per task and modality.
    public var gates: [String: [String: Double]]
    /// Examples of generated outputs: prompt → output (target).
    public var examples: [GenerationExample]
}

public struct GenerationExample: Codable, Sendable {
    public var id: String
    public var task: String
    public var prompt: String
    public var output: String
    public var target: String
}

public enum Evaluator {
    /// Evaluates on every kind of sample the corpus has. `limit` caps the generation samples.
    public static func evaluate(_ model: OmniModel, corpus: PreparedCorpus, batchSize: Int = 32, limit: Int? = nil,
                                examples exampleCount: Int = 6) -> EvaluationReport {
        model.eval()
        return GradMode.withoutGrad {
            var report = EvaluationReport(retrieval: [:], retrievalSamples: 0, vqaByKind: [:], vqaQuestions: 0, gates: [:], examples: [])
            retrieval(model, corpus: corpus, batchSize: batchSize, into: &report)
            generation(model, corpus: corpus, batchSize: batchSize, limit: limit, exampleCount: exampleCount, into: &report)
            return report
        }
    }

    /// Embeddings of each modality of the samples at `indices`, encoded one modality at a time.
    static func embeddings(_ model: OmniModel, corpus: PreparedCorpus, indices: [Int], modality: Modality, batchSize: Int) -> Tensor {
        var parts: [Tensor] = []
        let task = model.taskIndex("cross_modal_retrieval") ?? 0
        for start in stride(from: 0, to: indices.count, by: batchSize) {
            let chunk = Array(indices[start..<min(start + batchSize, indices.count)])
            let input = corpus.input(chunk, modalities: [modality], tasks: Array(repeating: task, count: chunk.count))
            parts.append(model.embeddings(model.encode(input))[modality]!)
        }
        return Tensor.concatenated(parts, axis: 0)                                     // [N, E]
    }

    static func retrieval(_ model: OmniModel, corpus: PreparedCorpus, batchSize: Int, into report: inout EvaluationReport) {
        let rows = corpus.indices(task: "cross_modal_retrieval", having: [.text])
        guard rows.count >= 2 else { return }
        report.retrievalSamples = rows.count
        var e: [Modality: Tensor] = [:]
        for m in [Modality.text, .image, .audio, .video, .signal] where model.configuration.modalities.contains(m) {
            if rows.allSatisfy({ corpus.samples[$0].modalities.contains(m) }) {
                e[m] = embeddings(model, corpus: corpus, indices: rows, modality: m, batchSize: batchSize)
            }
        }
        let scores = RetrievalMetrics.scores(e)
        for (pair, s) in scores {
            let a = pair.first.rawValue, b = pair.second.rawValue
            report.retrieval["\(a)→\(b)"] = Dictionary(uniqueKeysWithValues: s.forward.recall.map { ("R@\($0.key)", $0.value) })
            report.retrieval["\(b)→\(a)"] = Dictionary(uniqueKeysWithValues: s.backward.recall.map { ("R@\($0.key)", $0.value) })
        }
        report.imageTextR1 = report.retrieval["image→text"]?["R@1"]
        report.audioTextR1 = report.retrieval["audio→text"]?["R@1"]
        report.imageAudioR1 = report.retrieval["image→audio"]?["R@1"]
        if report.imageAudioR1 != nil { report.imageAudioChance = 1 / Double(rows.count) }
    }

    /// The text of generated ids, special tokens and surrounding spaces removed.
    public static func answerText(_ ids: [Int], corpus: PreparedCorpus) -> String {
        corpus.tokenizer.decode(ids.filter { $0 < corpus.tokenizer.vocabularySize && !corpus.tokenizer.specialTokens.values.contains($0) },
                                skipSpecialTokens: true).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func generation(_ model: OmniModel, corpus: PreparedCorpus, batchSize: Int, limit: Int?, exampleCount: Int,
                           into report: inout EvaluationReport) {
        guard let decoder = model.decoder else { return }
        var rows = corpus.samples.indices.filter { i in
            let s = corpus.samples[i]
            return s.targetText != nil && s.task != "cross_modal_retrieval" && model.taskIndex(s.task) != nil
        }
        if let limit { rows = Array(rows.prefix(limit)) }
        var correct: [String: (Int, Int)] = [:]   // VQA by kind: (right, total)
        var classification = (0, 0)
        var hypotheses: [String] = [], references: [String] = []
        var gates = GateStatistics()
        var exampleTasks: [String: Int] = [:]
        for start in stride(from: 0, to: rows.count, by: batchSize) {
            let chunk = Array(rows[start..<min(start + batchSize, rows.count)])
            let (generated, out) = answers(model, decoder: decoder, corpus: corpus, indices: chunk)
            gates.add(tasks: chunk.map { corpus.samples[$0].task }, gates: out.routed.gates, modalities: out.routed.modalities,
                      presence: out.encoded.mapValues(\.isPresent))
            for (i, g) in zip(chunk, generated) {
                let s = corpus.samples[i]
                let output = g, target = s.targetText!
                let exact = output.lowercased() == target.lowercased()
                switch s.task {
                case "visual_question_answering":
                    let kind = s.id.split(separator: "-").last.map(String.init) ?? "all"
                    var c = correct[kind] ?? (0, 0)
                    c.0 += exact ? 1 : 0; c.1 += 1
                    correct[kind] = c
                case "vibration_fault_classification", "defect_classification":
                    classification.0 += exact ? 1 : 0; classification.1 += 1
                default:
                    hypotheses.append(output); references.append(target)
                }
                if (exampleTasks[s.task] ?? 0) < max(1, exampleCount / 3) && report.examples.count < exampleCount * 2 {
                    exampleTasks[s.task, default: 0] += 1
                    report.examples.append(GenerationExample(id: s.id, task: s.task, prompt: InstructionPrompt.text(for: s, phrasing: 0),
                                                             output: output, target: target))
                }
            }
        }
        let totalRight = correct.values.reduce(0) { $0 + $1.0 }, total = correct.values.reduce(0) { $0 + $1.1 }
        if total > 0 {
            report.vqaAccuracy = Double(totalRight) / Double(total)
            report.vqaQuestions = total
            report.vqaByKind = correct.mapValues { Double($0.0) / Double($0.1) }
            let kinds = correct.keys.compactMap { SceneQuestion.Kind(rawValue: $0) }
            if !kinds.isEmpty {
                report.vqaChance = kinds.map { 1 / Double(SceneQuestion.answers(for: $0).count) }.reduce(0, +) / Double(kinds.count)
            }
        }
        if classification.1 > 0 { report.classificationAccuracy = Double(classification.0) / Double(classification.1) }
        if !hypotheses.isEmpty {
            report.bleu4 = BLEU.sacreBLEU(hypotheses: hypotheses, references: [references]).score
            report.rougeL = ROUGE.corpusScore(predictions: hypotheses, references: references.map { [$0] }).fmeasure
        }
        for (task, byModality) in gates.summaries {
            report.gates[task] = Dictionary(uniqueKeysWithValues: byModality.map { ($0.key.rawValue, $0.value.mean) })
        }
    }

    /// Greedy answers (phrasing 0 of each task's prompt) for the samples at `indices`, and the
    /// fusion output they were generated from. `dropping` removes one modality from the input:
    /// `.text` drops the prompt both from the fused text stream and from the decoder's prefix (the
    /// decoder then starts from `<bos>` alone); any other modality drops its encoder input.
    static func answers(_ model: OmniModel, decoder: TextDecoder, corpus: PreparedCorpus, indices: [Int],
                        dropping: Modality? = nil) -> (answers: [String], output: FusedOutput) {
        var prompts = StageObjective.instructionPrompts(corpus: corpus, indices: indices, generator: nil, phrasing: 0)
        var input = StageObjective.instructionInput(model, corpus: corpus, indices: indices, prompts: prompts)
        switch dropping {
        case .text?: input.text = nil; prompts = prompts.map { _ in [] }
        case .image?, .dicom?: input.image = nil
        case .audio?: input.audio = nil
        case .video?: input.video = nil
        case .signal?: input.signal = nil
        case nil: break
        }
        let out = model(input)
        let room = corpus.preparation.maxTextTokens / 2
        let generated = decoder.generate(context: out.fused,
                                         prompts: prompts.map { corpus.generationPrompt($0, maxLength: decoder.config.maxLength, answerRoom: room) },
                                         options: GenerationOptions(strategy: .greedy, maxNewTokens: room, stopTokens: [corpus.eosID]))
        return (generated.map { answerText($0.tokens, corpus: corpus) }, out)
    }

    /// The modality-bias score (``ModalityBias``, docs/metrics.md) of visual question answering:
    /// exact-match accuracy on the question samples with every input, with the image removed, and
    /// with the question removed (from the fused text and the decoder's prefix). Nil without
    /// question samples that carry an image.
    public static func vqaModalityBias(_ model: OmniModel, corpus: PreparedCorpus, batchSize: Int = 32) -> ModalityBias? {
        guard let decoder = model.decoder else { return nil }
        let rows = corpus.indices(task: "visual_question_answering", having: [.image]).filter { corpus.samples[$0].targetText != nil }
        guard !rows.isEmpty else { return nil }
        model.eval()
        func accuracy(dropping: Modality?) -> Double {
            GradMode.withoutGrad {
                var right = 0
                for start in stride(from: 0, to: rows.count, by: batchSize) {
                    let chunk = Array(rows[start..<min(start + batchSize, rows.count)])
                    let out = answers(model, decoder: decoder, corpus: corpus, indices: chunk, dropping: dropping).answers
                    right += zip(chunk, out).filter { $1.lowercased() == corpus.samples[$0].targetText!.lowercased() }.count
                }
                return Double(right) / Double(rows.count)
            }
        }
        return ModalityBias(fullAccuracy: accuracy(dropping: nil),
                            ablatedAccuracy: [.image: accuracy(dropping: .image), .text: accuracy(dropping: .text)])
    }
}
