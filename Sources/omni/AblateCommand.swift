// `omni ablate`: the article's ablations on the demo corpus — dynamic router vs fixed-weight
// fusion (VQA accuracy) and three-stage vs end-to-end training (VQA modality-bias score) — over
// several seeds, with mean ± standard deviation. Results: docs/ablations.md.
import ArgumentParser
import Foundation
import Logging
import OmniData
import OmniModels
import OmniNN
import OmniTensor
import OmniTrain

struct AblateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablate",
        abstract: "Trains the demo run's ablation variants over several seeds and compares them.",
        discussion: """
            Studies: router (dynamic router vs fixed learned gates, on VQA accuracy) and stages \
            (pretrain → align → instruct vs one end-to-end instruct stage with as many steps, on the \
            VQA modality-bias score of docs/metrics.md). Each (variant, seed) trains in \
            --dir/runs/<variant>-seed<N> (reused when finished, resumed when interrupted) on the \
            demo corpus in --dir/corpus (generated when missing), and is evaluated on its test split. \
            Prints one table per study with every seed and mean ± sample standard deviation, writes \
            --dir/ablations.json and --dir/ablations.md; the last line of stdout is the JSON summary.
            """)

    @Option(help: "Working folder.") var dir = "omni-ablate"
    @Option(help: "Studies: router, stages or all.") var study = "all"
    @Option(help: "Training seeds, comma-separated (at least 3 for a spread worth reporting).") var seeds = "0,1,2"
    @Option(help: "Scale every stage's step count of the demo run (1 = the demo's budget).") var scale = 1.0
    @Option(help: "Threads.") var threads = 2
    @OptionGroup var global: GlobalOptions

    /// One trained (variant, seed).
    struct RunResult: Codable {
        let variant: String
        let seed: UInt64
        let vqa_accuracy: Double?
        let modality_bias: Double?
        let vqa_accuracy_without_image: Double?
        let vqa_accuracy_without_question: Double?
        let image_text_r1: Double?
        let audio_text_r1: Double?
        /// Wall time from the first to the last logged training step (also for a reused run).
        let train_seconds: Double?
    }

    /// One study's comparison.
    struct StudySummary: Codable {
        let study: String
        let metric: String
        let variants: [String: [String: Double]]   // variant → mean, std, n
    }

    struct Summary: Codable {
        let scale: Double
        let seeds: [UInt64]
        let studies: [StudySummary]
        let runs: [RunResult]
    }

    func run() throws {
        let log = try global.makeLogger("omni.ablate")
        guard scale > 0 else { throw CLIError("--scale must be positive") }
        let studies: [AblationStudy]
        if study == "all" { studies = AblationStudy.allCases } else {
            guard let s = AblationStudy(rawValue: study) else {
                throw CLIError("--study: unknown study '\(study)' (router, stages or all)")
            }
            studies = [s]
        }
        let seedList = try seeds.split(separator: ",").map { part -> UInt64 in
            guard let s = UInt64(part.trimmingCharacters(in: .whitespaces)) else { throw CLIError("--seeds: '\(part)' is not a seed") }
            return s
        }
        guard !seedList.isEmpty, Set(seedList).count == seedList.count else { throw CLIError("--seeds: give distinct seeds, e.g. 0,1,2") }
        Threads.count = threads
        let root = URL(fileURLWithPath: dir).standardizedFileURL.path
        let corpus = root + "/corpus"
        try ensureDemoCorpus(at: corpus, seed: 0, threads: threads, log: log)

        var variants: [AblationVariant] = []
        for s in studies { for v in s.variants where !variants.contains(v) { variants.append(v) } }
        var results: [RunResult] = []
        for seed in seedList {
            for variant in variants {
                results.append(try train(variant, seed: seed, corpus: corpus, runDir: "\(root)/runs/\(variant.rawValue)-seed\(seed)", log: log))
            }
        }

        var summaries: [StudySummary] = []
        var markdown = "Ablations on the demo corpus (`omni ablate --study \(study) --seeds \(seeds) --scale \(scale)`), "
            + "\(seedList.count) seeds, mean ± sample standard deviation.\n"
        for s in studies {
            let metric = s == .router ? "vqa_accuracy" : "modality_bias"
            func value(_ r: RunResult) -> Double? { s == .router ? r.vqa_accuracy : r.modality_bias }
            var table = TextTable(["variant"] + seedList.map { "seed \($0)" } + ["mean ± std"])
            markdown += "\n### \(s.rawValue): \(metric)\n\n| variant | " + seedList.map { "seed \($0)" }.joined(separator: " | ") + " | mean ± std |\n"
            markdown += "|---|" + seedList.map { _ in "---|" }.joined() + "---|\n"
            var byVariant: [String: [String: Double]] = [:]
            for v in s.variants {
                let values = seedList.map { seed in results.first { $0.variant == v.rawValue && $0.seed == seed }.flatMap(value) }
                let present = values.compactMap { $0 }
                let (mean, std) = Self.meanAndStd(present)
                byVariant[v.rawValue] = ["mean": mean, "std": std, "n": Double(present.count)]
                let cells = values.map { $0.map { String(format: "%.3f", $0) } ?? "–" }
                let spread = String(format: "%.3f ± %.3f", mean, std)
                table.add([v.rawValue] + cells + [spread])
                markdown += "| \(v.rawValue) | " + cells.joined(separator: " | ") + " | \(spread) |\n"
            }
            print("\n\(s.rawValue) study — \(metric):")
            print(table.render())
            summaries.append(StudySummary(study: s.rawValue, metric: metric, variants: byVariant))
        }
        let summary = Summary(scale: scale, seeds: seedList, studies: summaries, runs: results)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(summary).write(to: URL(fileURLWithPath: root + "/ablations.json"))
        try markdown.write(toFile: root + "/ablations.md", atomically: true, encoding: .utf8)
        print("\nwrote \(root)/ablations.json and \(root)/ablations.md")
        try printJSONLine(summaries)
    }

    /// Trains (or reuses) one variant at one seed and evaluates it on the test split.
    func train(_ variant: AblationVariant, seed: UInt64, corpus: String, runDir: String, log: Logger) throws -> RunResult {
        print("\n\(variant.rawValue), seed \(seed): \(variant.summary)")
        let run = RunConfiguration.demo(variant, corpus: corpus, seed: seed, scale: scale)
        let trainer: Trainer
        do { trainer = try Trainer(run: run, directory: runDir) { log.info("\($0)") } } catch { throw CLIError("\(error)") }
        do { _ = try trainer.runAll(progress: progressLine) } catch { throw CLIError("\(error)") }
        // from the first to the last logged step, so a reused run reports its training too
        let records = (try? trainer.trainingRecords()) ?? []
        let seconds = records.count >= 2 ? records.last!.time - records.first!.time : nil
        let test: PreparedCorpus
        do {
            test = try PreparedCorpus.load(manifest: URL(fileURLWithPath: corpus + "/test.jsonl"), tokenizer: trainer.train.tokenizer,
                                           preparation: trainer.train.preparation)
        } catch { throw CLIError("\(error)") }
        let model = trainer.modules.model
        let report = Evaluator.evaluate(model, corpus: test)
        let bias = Evaluator.vqaModalityBias(model, corpus: test)
        let result = RunResult(variant: variant.rawValue, seed: seed, vqa_accuracy: report.vqaAccuracy, modality_bias: bias?.score,
                               vqa_accuracy_without_image: bias?.ablatedAccuracy[.image],
                               vqa_accuracy_without_question: bias?.ablatedAccuracy[.text],
                               image_text_r1: report.imageTextR1, audio_text_r1: report.audioTextR1, train_seconds: seconds)
        print(String(format: "  VQA %.3f (without image %.3f, without question %.3f), modality bias %.3f, image→text R@1 %.3f, trained in %.0f s",
                     result.vqa_accuracy ?? .nan, result.vqa_accuracy_without_image ?? .nan, result.vqa_accuracy_without_question ?? .nan,
                     result.modality_bias ?? .nan, result.image_text_r1 ?? .nan, seconds ?? .nan))
        return result
    }

    /// Mean and sample standard deviation (n − 1; 0 for a single value, NaN for none).
    static func meanAndStd(_ values: [Double]) -> (Double, Double) {
        guard !values.isEmpty else { return (.nan, .nan) }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, 0) }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }
}
