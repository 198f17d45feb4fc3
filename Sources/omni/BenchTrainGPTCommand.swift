// `omni bench train-gpt`: one training step (forward, backward, clipping, AdamW) of DESIGN.md §6's GPT.
import ArgumentParser
import Foundation
import OmniModels
import OmniTensor

struct BenchTrainGPTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-gpt",
        abstract: "Times a GPT training step: vocab 8192, dim 256, 4 layers, 4 heads, learned positions, pre-LN, GELU MLP ×4, untied head.",
        discussion: "The PyTorch 2.13 comparison runs in scripts/bench-train-gpt.sh, which times the same model in the same script.")

    @Option(help: "Sequences per step.") var batch = 8
    @Option(help: "Tokens per sequence (at most 256, the model's context).") var seq = 256
    @Option(help: "Threads (default: OMNI_NUM_THREADS, else the number of cores).") var threads: Int?
    @Option(help: "Timed steps.") var steps = 5
    @Option(help: "Untimed warm-up steps.") var warmup = 1
    @OptionGroup var global: GlobalOptions

    struct Result: Encodable {
        let bench = "train-gpt"
        let batch: Int, seq: Int, threads: Int, steps: Int
        let ms_median: Double, ms_min: Double, ms_max: Double
        let tokens_per_second: Double
        let final_loss: Float
    }

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
        guard seq > 0 && seq <= GPTConfig.benchmark.contextLength else {
            throw ValidationError("--seq must be in 1...\(GPTConfig.benchmark.contextLength), got \(seq)")
        }
        guard steps > 0, warmup >= 0 else { throw ValidationError("--steps must be positive and --warmup non-negative") }
    }

    func run() throws {
        _ = try global.makeLogger("omni.bench.train-gpt")
        let t = applyThreads(threads)
        let r = GPT.benchmarkTrainingStep(config: .benchmark, batch: batch, sequence: seq, steps: steps, warmup: warmup)
        print(String(format: "train-gpt batch %d seq %d threads %d: median %.1f ms [%.1f–%.1f] over %d steps, %.0f tokens/s, loss %.3f",
                     batch, seq, t, r.median, r.min, r.max, steps, Double(r.tokensPerStep) / (r.median / 1000), r.finalLoss))
        try printJSONLine(Result(batch: batch, seq: seq, threads: t, steps: steps, ms_median: r.median, ms_min: r.min, ms_max: r.max,
                                 tokens_per_second: Double(r.tokensPerStep) / (r.median / 1000), final_loss: r.finalLoss))
    }
}
