// `omni bench model`: the forward pass of a model configuration, by name, in inference mode.
import ArgumentParser
import Foundation
import OmniData
import OmniModels
import OmniNN
import OmniTensor

/// A forward pass `omni bench model` can time: what it is, and how to build it for a batch size.
struct ModelWorkload: Sendable {
    /// One line for `--help` and the report.
    let description: String
    /// Whether the model has a packed inference form (else `prepare` always runs the module).
    var hasPackedForm = true
    /// Builds the model (randomly initialised, seed 0, evaluation mode) and a batch of `batch`
    /// inputs, and returns one forward pass over them. With `packed`, the model's inference form
    /// (weights packed for oneDNN, fused epilogues) where it has one; otherwise the trainable
    /// module's own forward. Building and packing are not timed.
    let prepare: @Sendable (_ batch: Int, _ packed: Bool) -> () -> Void

    /// The workloads by `--config` name. Add a model here to benchmark it.
    static let all: [String: ModelWorkload] = {
        var all: [String: ModelWorkload] = [:]
        for (name, config) in VisionTransformerConfiguration.presets {
            all[name] = ModelWorkload(
                description: "ViT, patch \(config.patchSize), dim \(config.dimension), depth \(config.depth), \(config.heads) heads, MLP \(config.mlpHiddenSize), \(config.classCount) classes at \(config.imageSize) px: logits") { batch, packed in
                let model = VisionTransformer(config, generator: Generator(seed: 0))
                model.eval()
                let images = Tensor.normal([batch, config.channels, config.imageSize, config.imageSize], generator: Generator(seed: 1))
                if packed {
                    let fast = model.packedForInference(rowsHint: batch * (config.prefixTokenCount + config.nativeGrid * config.nativeGrid))
                    return { _ = fast(images) }
                }
                return { _ = GradMode.withoutGrad { model(images) } }
            }
        }
        // The omni-modal presets, per modality (`tiny-image`, `small-audio`, …) and whole
        // (`tiny`: every encoder on its modality, fusion and one decoder pass).
        for preset in OmniModelConfiguration.presetNames {
            guard let c = OmniModelConfiguration.preset(preset) else { continue }
            for m in ["all"] + c.modalities.map(\.rawValue) {
                let name = m == "all" ? preset : "\(preset)-\(m)"
                all[name] = ModelWorkload(
                    description: m == "all" ? "OmniModel \(preset) (D \(c.dimension)): every encoder, router, co-attention, decoder"
                                            : "OmniModel \(preset) (D \(c.dimension)): the \(m) encoder",
                    hasPackedForm: false) { batch, _ in
                    let model = OmniModel(c, generator: Generator(seed: 0))
                    model.eval()
                    let input = benchInput(c, batch: batch, modality: m == "all" ? nil : Modality(rawValue: m))
                    if m == "all" {
                        let ids = Tensor(Array(repeating: 1, count: batch * 8), shape: [batch, 8], dtype: .int64)
                        return { _ = GradMode.withoutGrad { model.decoder!(ids, context: model(input).fused) } }
                    }
                    return { _ = GradMode.withoutGrad { model.encode(input) } }
                }
            }
        }
        all["swin-tiny-224"] = ModelWorkload(
            description: "Swin-T (torchvision's swin_t: patch 4, dim 96, depths 2-2-6-2, window 7) at 224 px: logits",
            hasPackedForm: false) { batch, _ in
            let model = SwinTransformer(.swinTiny, generator: Generator(seed: 0))
            model.eval()
            let images = Tensor.normal([batch, 3, 224, 224], generator: Generator(seed: 1))
            return { _ = GradMode.withoutGrad { model(images) } }
        }
        return all
    }()
}

/// Random inputs for an omni-modal preset: 32 text tokens, images at the ViT's size, 3 s of
/// 80-mel audio, 8-frame videos, 1 s of 3-axis vibration at the signal rate.
func benchInput(_ c: OmniModelConfiguration, batch: Int, modality: Modality?) -> OmniInput {
    let g = Generator(seed: 1)
    var input = OmniInput(tasks: Array(repeating: 0, count: batch))
    var side = 64
    if case .vit(let v)? = c.image?.backbone { side = v.imageSize }
    func wants(_ m: Modality) -> Bool { (modality == nil || modality == m) && c.modalities.contains(m) }
    if wants(.text) {
        let ids = Tensor.randint([batch, 32], low: 4, high: c.text!.vocabSize, generator: g)
        input.text = TextEncoder.Batch(ids: ids, mask: Tensor.ones([batch, 32], dtype: .bool))
    }
    if wants(.image) { input.image = ImageBatch(stacked: Tensor.normal([batch, 3, side, side], generator: g)) }
    if wants(.audio) { input.audio = AudioEncoder.Batch(logMel: Tensor.normal([batch, 80, 300], generator: g), frames: Array(repeating: 300, count: batch)) }
    if wants(.video) { input.video = VideoBatch(videos: (0..<batch).map { _ in Tensor.normal([8, 3, side, side], generator: g) }) }
    if wants(.signal) {
        let n = Int(c.signal!.sampleRate)
        input.signal = SignalEncoder.Batch(values: Tensor.normal([batch, 3, n], generator: g), lengths: Array(repeating: n, count: batch),
                                           sampleRate: c.signal!.sampleRate)
    }
    return input
}

struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Times a model's forward pass (inference mode, no gradients) on random inputs.",
        discussion: """
            Configurations: \(ModelWorkload.all.keys.sorted().joined(separator: ", ")). \
            scripts/bench-vit.sh times the same ViT in PyTorch 2.13 in the same script.
            """)

    @Option(help: "Model configuration by name.") var config = "vit-tiny-224"
    @Option(help: "Inputs per forward pass.") var batch = 1
    @Option(help: "Threads (default: OMNI_NUM_THREADS, else the number of cores).") var threads: Int?
    @Option(help: "Timed forward passes.") var runs = 20
    @Option(help: "Untimed warm-up passes.") var warmup = 3
    @Flag(help: "Time the trainable module's forward (in evaluation mode) instead of the packed inference form.")
    var module = false
    @OptionGroup var global: GlobalOptions

    struct Result: Encodable {
        let bench = "model"
        let config: String, batch: Int, threads: Int, runs: Int, warmup: Int
        let path: String
        let ms_median: Double, ms_min: Double, ms_max: Double
        let items_per_second: Double
        /// Median CPU time of the process per pass (all threads): less sensitive than wall time
        /// to other work on a shared machine, as long as the cores are not oversubscribed.
        let cpu_ms_median: Double
        let load_average: Double
    }

    func validate() throws {
        guard ModelWorkload.all[config] != nil else {
            throw ValidationError("--config: unknown configuration '\(config)' (known: \(ModelWorkload.all.keys.sorted().joined(separator: ", ")))")
        }
        guard batch > 0 && batch <= 4096 else { throw ValidationError("--batch must be in 1...4096, got \(batch)") }
        if let threads { guard threads > 0 && threads <= 1024 else { throw ValidationError("--threads must be in 1...1024, got \(threads)") } }
        guard runs > 0, warmup >= 0 else { throw ValidationError("--runs must be positive and --warmup non-negative") }
    }

    func run() throws {
        _ = try global.makeLogger("omni.bench.model")
        let t = applyThreads(threads)
        let workload = ModelWorkload.all[config]!
        let path = module || !workload.hasPackedForm ? "module" : "packed"
        let forward = workload.prepare(batch, path == "packed")
        for _ in 0..<warmup { forward() }
        var seconds: [Double] = [], cpuSeconds: [Double] = []
        for _ in 0..<runs {
            let (t0, c0) = (monotonicSeconds(), processCPUSeconds())
            forward()
            seconds.append(monotonicSeconds() - t0)
            cpuSeconds.append(processCPUSeconds() - c0)
        }
        let s = TimingSummary(seconds: seconds)
        let perSecond = rounded(Double(batch) / s.medianSeconds, 2)
        print("\(config) (\(path)): \(workload.description)")
        print(String(format: "batch %d, %d threads: median %.2f ms [%.2f–%.2f] over %d runs, %.1f per second",
                     batch, t, s.median_ms, s.min_ms, s.max_ms, runs, perSecond))
        try printJSONLine(Result(config: config, batch: batch, threads: t, runs: runs, warmup: warmup, path: path,
                                 ms_median: s.median_ms, ms_min: s.min_ms, ms_max: s.max_ms,
                                 items_per_second: perSecond, cpu_ms_median: TimingSummary(seconds: cpuSeconds).median_ms,
                                 load_average: loadAverage()))
    }
}

/// CPU seconds the process has used, all threads together.
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
