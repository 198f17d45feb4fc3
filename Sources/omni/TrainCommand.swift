// `omni train`, `omni eval`, `omni infer`: the three-stage trainer, held-out evaluation and
// answering with a trained model.
import ArgumentParser
import Foundation
import OmniData
import OmniModels
import OmniNN
import OmniTensor
import OmniTrain

/// A live progress line on stderr (carriage return, no newline until the stage ends).
func progressLine(_ p: TrainerProgress) {
    let eta = p.secondsLeftInStage.isFinite ? String(format: "%.0f s", p.secondsLeftInStage) : "?"
    var line = String(format: "\r%@ step %d/%d (global %d)  loss %.4f  %.1f samples/s  ETA %@   ",
                      p.stage.rawValue, p.stageStep, p.stageSteps, p.globalStep, p.loss, p.samplesPerSecond, eta)
    if let message = p.message { line += "\n" + message }
    if p.stageStep == p.stageSteps || p.message != nil { line += "\n" }
    FileHandle.standardError.write(Data(line.utf8))
}

/// Validation metrics during training: the score the trainer early-stops on is `score`.
func validationMetrics(_ model: OmniModel, _ corpus: PreparedCorpus, _ stage: StageKind) -> [String: Double] {
    let report = Evaluator.evaluate(model, corpus: corpus, limit: 120)
    var out: [String: Double] = [:]
    if let v = report.imageTextR1 { out["image_text_r1"] = v }
    if let v = report.audioTextR1 { out["audio_text_r1"] = v }
    if let v = report.vqaAccuracy { out["vqa_accuracy"] = v }
    switch stage {
    case .align: out["score"] = ((report.imageTextR1 ?? 0) + (report.audioTextR1 ?? 0)) / 2
    case .instruct: out["score"] = report.vqaAccuracy ?? 0
    case .pretrain: break
    }
    return out
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Trains an omni-modal model through the stages of RUN.json (pretrain → align → instruct).",
        discussion: """
            The run folder (--out) holds run.json, the tokenizer, checkpoints/ (atomic, checksummed, \
            last K kept), logs/ (JSONL and CSV), plots/ and finally model/. Running the same command \
            again on the same folder resumes from the newest valid checkpoint and reaches the same \
            weights as an uninterrupted run. --stage runs one stage only (its settings from RUN.json).
            """)

    @Option(help: "The run configuration (JSON).") var config: String
    @Option(help: "Run folder (created; an existing one is resumed).") var out: String
    @Option(help: "Only this stage (pretrain, align, instruct).") var stage: String?
    @Option(help: "Stop after this many steps in all (for tests).") var maxSteps: Int?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let log = try global.makeLogger("omni.train")
        var run: RunConfiguration
        do { run = try RunConfiguration.load(contentsOf: URL(fileURLWithPath: config)) } catch { throw CLIError("\(error)") }
        if let stage {
            guard let kind = StageKind(rawValue: stage) else { throw CLIError("--stage \(stage): expected pretrain, align or instruct") }
            run.stages = run.stages.filter { $0.kind == kind }
            guard !run.stages.isEmpty else { throw CLIError("\(config): has no \(stage) stage") }
        }
        let trainer: Trainer
        do { trainer = try Trainer(run: run, directory: out) { log.info("\($0)") } } catch { throw CLIError("\(error)") }
        let model: URL
        do {
            model = try trainer.runAll(progress: progressLine, evaluate: validationMetrics, stopAfterGlobalStep: maxSteps)
        } catch { throw CLIError("\(error)") }
        print("trained \(trainer.position.globalStep) steps; model in \(model.path)")
        struct Report: Encodable { let model: String; let steps: Int; let samples_per_s: [String: Double] }
        try printJSONLine(Report(model: model.path, steps: trainer.position.globalStep,
                                 samples_per_s: Dictionary(uniqueKeysWithValues: trainer.throughput.map { ($0.key.rawValue, $0.value) })))
    }
}

/// A trained model folder and what evaluating or prompting it needs.
struct LoadedModel {
    let model: OmniModel
    let tokenizer: TiktokenTokenizer
    let preparation: CorpusPreparation

    init(_ directory: String) throws {
        let url = URL(fileURLWithPath: directory)
        do {
            model = try OmniModel.load(from: url)
            guard let t = model.configuration.tokenizer else {
                throw OmniModelError(file: url.appending(path: OmniModel.configurationFile).path, "no tokenizer in the configuration")
            }
            tokenizer = try TiktokenTokenizer(contentsOf: url.appending(path: t.file), pattern: .gpt2, specialTokens: t.specialTokens)
            preparation = try CorpusPreparation.forModel(model.configuration)
        } catch { throw CLIError("\(error)") }
        model.eval()
    }
}

/// Prints an evaluation as a table.
func printEvaluation(_ r: EvaluationReport) {
    var table = TextTable(["metric", "value"])
    func row(_ name: String, _ v: Double?) { if let v { table.add([name, String(format: "%.3f", v)]) } }
    row("image→text R@1", r.imageTextR1)
    row("audio→text R@1", r.audioTextR1)
    row("image→audio R@1 (zero-shot)", r.imageAudioR1)
    row("image→audio chance", r.imageAudioChance)
    for (k, v) in r.retrieval.sorted(by: { $0.key < $1.key }) where !["image→text", "audio→text", "image→audio"].contains(k) {
        row("\(k) R@1", v["R@1"])
    }
    row("VQA accuracy (\(r.vqaQuestions) questions)", r.vqaAccuracy)
    row("VQA chance", r.vqaChance)
    for (k, v) in r.vqaByKind.sorted(by: { $0.key < $1.key }) { row("  VQA \(k)", v) }
    row("fault classification accuracy", r.classificationAccuracy)
    row("captions/transcripts BLEU-4", r.bleu4)
    row("captions/transcripts ROUGE-L", r.rougeL)
    print(table.render())
    if !r.examples.isEmpty {
        print("\nsample outputs:")
        for e in r.examples { print("  [\(e.task)] \(e.prompt.replacingOccurrences(of: "\n", with: " ")) → \(e.output)   (target: \(e.target))") }
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluates a trained model on a manifest: retrieval, VQA, generation, gates.")

    @Option(help: "Model folder (config.json, model.safetensors, tokenizer).") var model: String
    @Option(help: "JSONL manifest to evaluate on.") var manifest: String
    @Option(help: "Most generation samples.") var limit: Int?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = try global.makeLogger("omni.eval")
        let loaded = try LoadedModel(model)
        let corpus: PreparedCorpus
        do { corpus = try PreparedCorpus.load(manifest: URL(fileURLWithPath: manifest), tokenizer: loaded.tokenizer, preparation: loaded.preparation) }
        catch { throw CLIError("\(error)") }
        let report = Evaluator.evaluate(loaded.model, corpus: corpus, limit: limit)
        printEvaluation(report)
        try printJSONLine(report)
    }
}

struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Answers a prompt about an image and/or audio (or video, signal) with a trained model.")

    @Option(help: "Model folder.") var model: String
    @Option(help: "Image file.") var image: String?
    @Option(help: "Audio file.") var audio: String?
    @Option(help: "Video file.") var video: String?
    @Option(help: "Signal file (.npy [C, S], CSV, WAV).") var signal: String?
    @Option(help: "The question or instruction.") var prompt: String
    @Option(help: "Task name (default: visual_question_answering with an image, else speech_transcription / video_captioning / vibration_fault_classification).") var task: String?
    @Option(help: "Most tokens to generate.") var maxTokens = 24
    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = try global.makeLogger("omni.infer")
        guard image != nil || audio != nil || video != nil || signal != nil else { throw CLIError("give --image, --audio, --video or --signal") }
        let loaded = try LoadedModel(model)
        // one manifest line in a temporary folder goes through the same decoding as training data
        let dir = FileManager.default.temporaryDirectory.appending(path: "omni-infer-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // manifests hold relative paths: each input is copied into the temporary folder
        func absolute(_ p: String?) throws -> String? {
            guard let p else { return nil }
            guard FileManager.default.fileExists(atPath: p) else { throw CLIError("\(p): no such file") }
            let source = URL(fileURLWithPath: p).standardizedFileURL
            let name = "input-\(UUID().uuidString.prefix(8)).\(source.pathExtension)"
            do { try FileManager.default.copyItem(at: source, to: dir.appending(path: name)) }
            catch { throw CLIError("\(p): \(error.localizedDescription)") }
            return name
        }
        let taskName = task ?? (image != nil ? "visual_question_answering" : audio != nil ? "speech_transcription"
                                : video != nil ? "video_captioning" : "vibration_fault_classification")
        guard loaded.model.taskIndex(taskName) != nil else { throw CLIError("--task \(taskName): the model has no such task") }
        let sample = ManifestSample(id: "query", text: prompt, image: try absolute(image), audio: try absolute(audio),
                                    video: try absolute(video), signal: try absolute(signal), task: taskName, target: nil)
        let manifestURL = dir.appending(path: "query.jsonl")
        try JSONEncoder().encode(sample).write(to: manifestURL)
        let corpus: PreparedCorpus
        do { corpus = try PreparedCorpus.load(manifest: manifestURL, tokenizer: loaded.tokenizer, preparation: loaded.preparation) }
        catch { throw CLIError("\(error)") }
        let output = GradMode.withoutGrad { () -> (String, [Modality: Float]) in
            // the prompt as given (for VQA the prompt is the question itself), read by the text
            // encoder and, as a prefix, by the decoder — as in instruction tuning
            let tokens = Array(loaded.tokenizer.encode(prompt, addSpecialTokens: false).prefix(corpus.preparation.maxTextTokens))
            let input = StageObjective.instructionInput(loaded.model, corpus: corpus, indices: [0], prompts: [tokens])
            let out = loaded.model(input)
            let decoder = loaded.model.decoder!
            let g = decoder.generate(context: out.fused,
                                     prompts: [corpus.generationPrompt(tokens, maxLength: decoder.config.maxLength, answerRoom: maxTokens)],
                                     options: GenerationOptions(maxNewTokens: maxTokens, stopTokens: [corpus.eosID]))
            return (Evaluator.answerText(g[0].tokens, corpus: corpus), out.routed.gates(ofSample: 0))
        }
        print(output.0)
        struct Report: Encodable { let answer: String; let task: String; let gates: [String: Float] }
        try printJSONLine(Report(answer: output.0, task: taskName,
                                 gates: Dictionary(uniqueKeysWithValues: output.1.map { ($0.key.rawValue, $0.value) })))
    }
}
