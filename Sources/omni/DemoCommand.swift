// `omni demo`: the main job. Generates (or reuses) the demo corpus, trains the `tiny` preset
// through pretrain → align → instruct, evaluates on the held-out test split, prints the results
// and writes an HTML report.
import ArgumentParser
import Foundation
import Logging
import OmniData
import OmniModels
import OmniNN
import OmniTensor
import OmniTrain

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generates the demo corpus, trains the tiny omni-modal model in three stages, evaluates it.",
        discussion: """
            Everything lands in --dir (default ./omni-demo): corpus/, run/ (checkpoints, logs, plots, \
            model/) and report.html. Running it again reuses the corpus and resumes or reuses the \
            run. The last line of stdout is JSON with image_text_r1, audio_text_r1, image_audio_r1, \
            image_audio_chance, vqa_accuracy and model_dir. Questions and chance levels: docs/demo.md.
            """)

    @Option(help: "Working folder.") var dir = "omni-demo"
    @Option(help: "Random seed (corpus and training).") var seed: UInt64 = 0
    @Option(help: "Scale every stage's step count (e.g. 0.1 for a quick smoke run).") var scale = 1.0
    @Option(help: "Threads.") var threads = 2
    @OptionGroup var global: GlobalOptions

    struct Result: Encodable {
        let image_text_r1: Double?
        let audio_text_r1: Double?
        let image_audio_r1: Double?
        let image_audio_chance: Double?
        let vqa_accuracy: Double?
        let vqa_chance: Double?
        let fault_accuracy: Double?
        let model_dir: String
        let seconds: [String: Double]
        let samples_per_s: [String: Double]
        let report: String
    }

    func run() throws {
        let log = try global.makeLogger("omni.demo")
        guard scale > 0 else { throw CLIError("--scale must be positive") }
        let start = Date()
        var seconds: [String: Double] = [:]
        let root = URL(fileURLWithPath: dir).standardizedFileURL.path
        let corpus = root + "/corpus", runDir = root + "/run"
        Threads.count = threads

        // 1. corpus
        var t0 = Date()
        try ensureDemoCorpus(at: corpus, seed: seed, threads: threads, log: log)
        seconds["corpus"] = Date().timeIntervalSince(t0)

        // 2. training
        t0 = Date()
        let run = RunConfiguration.demo(corpus: corpus, seed: seed, scale: scale)
        let trainer: Trainer
        do { trainer = try Trainer(run: run, directory: runDir) { log.info("\($0)") } } catch { throw CLIError("\(error)") }
        seconds["prepare"] = Date().timeIntervalSince(t0)
        t0 = Date()
        print("training the tiny preset: " + run.stages.map { "\($0.kind.rawValue) \($0.steps) steps" }.joined(separator: " → "))
        let modelDir: URL
        do { modelDir = try trainer.runAll(progress: progressLine, evaluate: validationMetrics) } catch { throw CLIError("\(error)") }
        seconds["train"] = Date().timeIntervalSince(t0)

        // 3. held-out evaluation
        t0 = Date()
        let testURL = URL(fileURLWithPath: corpus + "/test.jsonl")
        let test: PreparedCorpus
        do { test = try PreparedCorpus.load(manifest: testURL, tokenizer: trainer.train.tokenizer, preparation: trainer.train.preparation) }
        catch { throw CLIError("\(error)") }
        let report = Evaluator.evaluate(trainer.modules.model, corpus: test)
        seconds["evaluate"] = Date().timeIntervalSince(t0)
        print("\nheld-out results (\(report.retrievalSamples) retrieval scenes with distinct captions, \(report.vqaQuestions) questions):")
        printEvaluation(report)

        // 4. an explanation picture and the HTML report
        var explanation: String? = nil
        if let i = test.indices(task: "cross_modal_retrieval", having: [.image]).first,
           let file = try? Manifest.load(contentsOf: testURL).samples[i].image {
            let image = try? Image(contentsOfFile: corpus + "/" + file)
            let model = trainer.modules.model
            if let image, let e = try? GradMode.withoutGrad({ try model.explainImage(ImagePreprocessing.modelInput(image, side: test.preparation.imageSide),
                                                                                     task: model.taskIndex("image_captioning") ?? 0, method: .rollout) }) {
                let out = root + "/explain.png"
                if (try? Heatmap(e.relevance, width: 256, height: 256).overlaid(on: image.resized(width: 256, height: 256)).write(toFile: out)) != nil {
                    explanation = "explain.png"
                }
            }
        }
        seconds["total"] = Date().timeIntervalSince(start)
        let html = root + "/report.html"
        try DemoReport.html(report: report, run: run, seconds: seconds, throughput: trainer.throughput, explanation: explanation)
            .write(toFile: html, atomically: true, encoding: .utf8)
        print(String(format: "\ncorpus %.0f s, decoding %.0f s, training %.0f s, evaluation %.0f s; total %.0f s. Report: %@",
                     seconds["corpus"]!, seconds["prepare"]!, seconds["train"]!, seconds["evaluate"]!, seconds["total"]!, html))
        print("try: omni infer --model \(modelDir.path) --image \(corpus)/images/test-000000.png --prompt \"what shape is shown?\"")
        try printJSONLine(Result(image_text_r1: report.imageTextR1, audio_text_r1: report.audioTextR1, image_audio_r1: report.imageAudioR1,
                                 image_audio_chance: report.imageAudioChance, vqa_accuracy: report.vqaAccuracy, vqa_chance: report.vqaChance,
                                 fault_accuracy: report.classificationAccuracy, model_dir: modelDir.path, seconds: seconds,
                                 samples_per_s: Dictionary(uniqueKeysWithValues: trainer.throughput.map { ($0.key.rawValue, $0.value) }),
                                 report: html))
    }
}

/// Generates the demo corpus into `corpus` unless one is there already (its `corpus.json`).
func ensureDemoCorpus(at corpus: String, seed: UInt64, threads: Int, log: Logger) throws {
    if FileManager.default.fileExists(atPath: corpus + "/corpus.json") {
        print("reusing the demo corpus in \(corpus)")
        return
    }
    print("generating the demo corpus in \(corpus) …")
    var c = DemoCorpusConfiguration()
    c.seed = seed
    c.threads = threads
    do {
        let s = try DemoCorpus.generate(into: corpus, configuration: c, progress: { log.info("\($0)") })
        let counts: [String] = s.manifests.keys.sorted().map { "\($0): \(s.manifests[$0]!) samples" }
        print("  " + counts.joined(separator: ", ") + String(format: " (%.0f s)", s.seconds))
    } catch { throw CLIError("\(corpus): \(error)") }
}

/// The demo's HTML report: metrics, sample outputs, timing and the training plots.
enum DemoReport {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func html(report r: EvaluationReport, run: RunConfiguration, seconds: [String: Double],
                     throughput: [StageKind: Double], explanation: String?) -> String {
        func row(_ k: String, _ v: Double?) -> String { v.map { "<tr><td>\(escape(k))</td><td>\(String(format: "%.3f", $0))</td></tr>" } ?? "" }
        var rows = [row("image→text R@1", r.imageTextR1), row("audio→text R@1", r.audioTextR1),
                    row("image→audio R@1 (never paired in training)", r.imageAudioR1), row("image→audio chance", r.imageAudioChance),
                    row("VQA accuracy", r.vqaAccuracy), row("VQA chance", r.vqaChance),
                    row("fault classification accuracy", r.classificationAccuracy), row("BLEU-4 (captions, transcripts)", r.bleu4),
                    row("ROUGE-L", r.rougeL)]
        for (k, v) in r.vqaByKind.sorted(by: { $0.key < $1.key }) { rows.append(row("VQA \(k)", v)) }
        let examples = r.examples.map {
            "<tr><td>\(escape($0.task))</td><td>\(escape($0.prompt))</td><td>\(escape($0.output))</td><td>\(escape($0.target))</td></tr>"
        }.joined()
        let gates = r.gates.sorted { $0.key < $1.key }.map { task, g in
            "<tr><td>\(escape(task))</td><td>" + g.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value))" }.joined(separator: ", ") + "</td></tr>"
        }.joined()
        let stages = run.stages.map { s in
            "<tr><td>\(s.kind.rawValue)</td><td>\(s.steps)</td><td>\(s.batchSize)</td><td>\(String(format: "%.1f", throughput[s.kind] ?? 0))</td></tr>"
        }.joined()
        let timing = seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.0f", $0.value)) s" }.joined(separator: ", ")
        return """
        <!doctype html><html><head><meta charset="utf-8"><title>Omni demo report</title>
        <style>body{font-family:sans-serif;max-width:960px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}</style></head><body>
        <h1>Omni demo: tiny omni-modal model, three-stage training</h1>
        <p>Held-out test split of the generated corpus (see docs/demo.md for the questions and chance levels).</p>
        <h2>Results</h2><table>\(rows.joined())</table>
        <h2>Sample outputs</h2><table><tr><th>task</th><th>prompt</th><th>output</th><th>target</th></tr>\(examples)</table>
        <h2>Router gates (mean per task)</h2><table>\(gates)</table>
        <h2>Training</h2><table><tr><th>stage</th><th>steps</th><th>batch</th><th>samples/s</th></tr>\(stages)</table><p>\(timing)</p>
        <img src="run/plots/loss.png" alt="training loss"> <img src="run/plots/validation.png" alt="validation metrics">
        \(explanation.map { "<h2>Attention rollout on a test image</h2><img src=\"\($0)\" alt=\"explanation\">" } ?? "")
        </body></html>
        """
    }
}
