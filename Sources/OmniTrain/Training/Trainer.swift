// The training loop: stages in order, mixed-modality batches drawn reproducibly, AdamW with a
// warm-up + cosine schedule, clipping and accumulation, periodic evaluation with early stopping,
// JSONL/CSV logs, atomic checkpoints, and exact resumption after a kill.
import Foundation
import OmniData
import OmniModels
import OmniNN
import OmniOptim
import OmniTensor

/// Where a run is, saved in every checkpoint.
public struct TrainerPosition: Codable, Sendable, Equatable {
    /// Index of the current stage in the run's `stages`.
    public var stage: Int
    /// Optimiser steps done in that stage.
    public var stageStep: Int
    /// Steps done over all stages.
    public var globalStep: Int
    /// The batch sampler's generator state.
    public var sampler: [UInt64]
    /// The masking generator's state (pre-training).
    public var masking: [UInt64]
    /// Early stopping: best validation metric of the stage and evaluations since it improved.
    public var best: Double?
    public var sinceBest: Int
    public var stopped: Bool
}

/// One line of the progress callback.
public struct TrainerProgress: Sendable {
    public var stage: StageKind
    public var stageStep: Int
    public var stageSteps: Int
    public var globalStep: Int
    public var loss: Float
    public var samplesPerSecond: Double
    public var secondsLeftInStage: Double
    public var message: String?
}

/// Trains an ``OmniModel`` through the stages of a ``RunConfiguration`` in a run folder:
/// `run.json`, `tokenizer.tiktoken`, `checkpoints/`, `logs/train.{jsonl,csv}`,
/// `logs/eval.{jsonl,csv}`, `plots/*.png`, and finally `model/` (config.json,
/// model.safetensors, tokenizer.tiktoken).
public final class Trainer: @unchecked Sendable {
    public let run: RunConfiguration
    public let directory: String
    public let modules: TrainingModules
    public let train: PreparedCorpus
    public let validation: PreparedCorpus?
    public let store: CheckpointStore
    public private(set) var position: TrainerPosition
    let trainLog: RunLog
    let evalLog: RunLog
    /// Training throughput per stage (samples per second, median of logged steps).
    public private(set) var throughput: [StageKind: Double] = [:]

    public static let tokenizerFile = "tokenizer.tiktoken"

    /// Prepares a run folder (or reopens it: the tokenizer and the newest valid checkpoint are
    /// reused, so `run()` continues where a killed run stopped).
    public init(run: RunConfiguration, directory: String, log: (@Sendable (String) -> Void)? = nil) throws {
        let problems = run.problems
        guard problems.isEmpty else { throw OmniModelError(file: directory + "/run.json", problems.joined(separator: "; ")) }
        self.run = run
        self.directory = directory
        Threads.count = run.threads
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let runFile = URL(fileURLWithPath: directory + "/run.json")
        if fm.fileExists(atPath: runFile.path) {
            let saved = try RunConfiguration.load(contentsOf: runFile)
            guard saved == run else {
                throw OmniModelError(file: runFile.path, "the folder holds a different run; use a new folder or the same RUN.json to resume")
            }
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(run).write(to: runFile, options: .atomic)
        }
        let corpus = URL(fileURLWithPath: run.corpus)
        let trainURL = corpus.appending(path: "train.jsonl"), validationURL = corpus.appending(path: "validation.jsonl")
        // The tokenizer is trained once and kept, so a resumed run reads the same ids.
        let tokenizerURL = URL(fileURLWithPath: directory + "/" + Trainer.tokenizerFile)
        let tokenizer: TiktokenTokenizer
        if fm.fileExists(atPath: tokenizerURL.path) {
            tokenizer = try Trainer.loadTokenizer(tokenizerURL, vocabularySize: run.vocabularySize)
        } else {
            log?("training a \(run.vocabularySize)-token BPE tokenizer on \(trainURL.path)")
            tokenizer = try PreparedCorpus.trainTokenizer(manifests: [trainURL], vocabularySize: run.vocabularySize)
            try tokenizer.save(to: tokenizerURL)
        }
        var configuration = try run.modelConfiguration()
        configuration.tokenizer = TokenizerConfiguration(kind: .tiktoken, file: Trainer.tokenizerFile, pattern: "gpt2",
                                                         specialTokens: tokenizer.specialTokens)
        let problemsOfModel = configuration.problems
        guard problemsOfModel.isEmpty else { throw OmniModelError(file: runFile.path, problemsOfModel.joined(separator: "; ")) }
        let preparation = try CorpusPreparation.forModel(configuration, threads: run.threads)
        log?("decoding \(trainURL.path)")
        train = try PreparedCorpus.load(manifest: trainURL, tokenizer: tokenizer, preparation: preparation)
        validation = fm.fileExists(atPath: validationURL.path)
            ? try PreparedCorpus.load(manifest: validationURL, tokenizer: tokenizer, preparation: preparation) : nil
        let generator = Generator(seed: run.seed)
        modules = TrainingModules(model: OmniModel(configuration, generator: generator), generator: generator)
        store = try CheckpointStore(directory: directory + "/checkpoints", keepLast: run.keepCheckpoints) { log?("warning: \($0)") }
        trainLog = try RunLog(directory: directory + "/logs", name: "train")
        evalLog = try RunLog(directory: directory + "/logs", name: "eval")
        position = TrainerPosition(stage: 0, stageStep: 0, globalStep: 0, sampler: Generator(seed: run.seed &+ 1).state,
                                   masking: Generator(seed: run.seed &+ 2).state, best: nil, sinceBest: 0, stopped: false)
        if let latest = store.latest() {
            try latest.loadModel(into: modules)
            position = try latest.state(TrainerPosition.self)
            _ = try trainLog.truncate(afterStep: position.globalStep)
            _ = try evalLog.truncate(afterStep: position.globalStep)
            log?("resuming from \(latest.directory) (stage \(position.stage + 1), step \(position.stageStep))")
            pendingOptimizerCheckpoint = latest
        }
    }

    var pendingOptimizerCheckpoint: Checkpoint?

    /// The training log's records (`logs/train.jsonl`), one per optimiser step so far.
    public func trainingRecords() throws -> [RunLogRecord] { try trainLog.records() }

    /// Reads a tokenizer trained by ``PreparedCorpus/trainTokenizer(manifests:vocabularySize:)``:
    /// its special tokens take the ids after the last rank, in ``SpecialToken/all`` order.
    public static func loadTokenizer(_ url: URL, vocabularySize: Int? = nil) throws -> TiktokenTokenizer {
        let ranks = try TiktokenTokenizer(contentsOf: url, pattern: .gpt2).mergeableRanks.count
        var specials: [String: Int] = [:]
        for (i, s) in SpecialToken.all.enumerated() { specials[s] = ranks + i }
        return try TiktokenTokenizer(contentsOf: url, pattern: .gpt2, specialTokens: specials)
    }

    // MARK: Batches

    /// Sample pools of a stage by primary modality, and their weights.
    func pools(for stage: StageConfiguration) -> [(modality: Modality, indices: [Int], weight: Double)] {
        var out: [(Modality, [Int], Double)] = []
        for m in [Modality.image, .audio, .video, .signal] {
            let need: Set<Modality> = stage.kind == .align ? [.text, m] : [m]
            let indices = train.indices(having: need).filter { i in
                let s = train.samples[i]
                switch stage.kind {
                case .instruct: return s.target != nil && modules.model.taskIndex(s.task) != nil && s.task != "cross_modal_retrieval"
                // contrastive pairs need a text that describes the sample, not a question about it
                case .align: return (try? TaskRegistry.builtIn.task(named: s.task))?.category.textDescribesInput ?? true
                case .pretrain: return true
                }
            }
            let w = stage.modalityWeights[m]
            if !indices.isEmpty && w > 0 { out.append((m, indices, w)) }
        }
        return out
    }

    func drawBatch(_ pools: [(modality: Modality, indices: [Int], weight: Double)], size: Int, generator: Generator) -> [Int] {
        let total = pools.reduce(0) { $0 + $1.weight }
        return (0..<size).map { _ in
            var u = generator.nextDouble() * total
            var pool = pools[pools.count - 1]
            for p in pools { if u < p.weight { pool = p; break }; u -= p.weight }
            return pool.indices[generator.nextInt(below: pool.indices.count)]
        }
    }

    // MARK: Loop

    /// Runs (or continues) every stage, then exports the model. Returns the model folder.
    @discardableResult
    public func runAll(progress: ((TrainerProgress) -> Void)? = nil, evaluate: ((OmniModel, PreparedCorpus, StageKind) -> [String: Double])? = nil,
                       stopAfterGlobalStep: Int? = nil) throws -> URL {
        while position.stage < run.stages.count {
            let stage = run.stages[position.stage]
            try runStage(stage, progress: progress, evaluate: evaluate, stopAfterGlobalStep: stopAfterGlobalStep)
            if let stop = stopAfterGlobalStep, position.globalStep >= stop, position.stageStep < stage.steps, !position.stopped { break }
            position.stage += 1
            position.stageStep = 0
            position.best = nil; position.sinceBest = 0; position.stopped = false
        }
        try writePlots()
        return try export()
    }

    func runStage(_ stage: StageConfiguration, progress: ((TrainerProgress) -> Void)?,
                  evaluate: ((OmniModel, PreparedCorpus, StageKind) -> [String: Double])?, stopAfterGlobalStep: Int?) throws {
        _ = modules.unfreeze(matching: "*")
        for pattern in stage.freeze { _ = modules.freeze(matching: pattern) }
        // the pre-training heads only train in pre-training; the temperature only in alignment
        if stage.kind != .pretrain { _ = modules.freeze(matching: "pretrain.*") }
        if stage.kind != .align { _ = modules.freeze(matching: "logit_scale.*") }
        modules.train()
        let optimizer = AdamW(learningRate: stage.learningRate, weightDecay: stage.weightDecay)
        if let checkpoint = pendingOptimizerCheckpoint, position.stageStep > 0 {
            try checkpoint.loadOptimizer(into: optimizer)
        }
        pendingOptimizerCheckpoint = nil
        let schedule = LearningRateSchedule.warmupCosine(peak: stage.learningRate, warmupSteps: stage.warmupSteps,
                                                         totalSteps: max(stage.steps, 1), minimum: stage.learningRate * 0.05)
        let sampler = Generator(seed: 0), masking = Generator(seed: 0)
        sampler.state = position.sampler
        masking.state = position.masking
        let pools = pools(for: stage)
        let alignmentPools = stage.alignment.map { term in
            self.pools(for: StageConfiguration(kind: .align, steps: 0, batchSize: term.batchSize, modalityWeights: term.modalityWeights))
        }
        if let alignmentPools, alignmentPools.isEmpty {
            throw OmniModelError(file: run.corpus + "/train.jsonl", "no (modality, text) pairs for the \(stage.kind.rawValue) stage's alignment term")
        }
        var pretrainPools: [Modality: [Int]] = [:]
        for m in [Modality.text, .image, .audio] { pretrainPools[m] = train.indices(having: [m]) }
        let pretrainModalities: [Modality] = [.text, .image, .audio].filter { m in
            switch m {
            case .text: return modules.model.textEncoder?.tokenEmbedding != nil && !train.indices(having: [.text]).isEmpty
            case .image: return modules.patchSize != nil && !train.indices(having: [.image]).isEmpty
            case .audio: return modules.pretrainHeads["audio_frames"] != nil && !train.indices(having: [.audio]).isEmpty
            default: return false
            }
        }
        guard stage.kind == .pretrain ? !pretrainModalities.isEmpty : !pools.isEmpty else {
            throw OmniModelError(file: run.corpus + "/train.jsonl", "no samples for the \(stage.kind.rawValue) stage")
        }
        let alignTask = modules.model.taskIndex("cross_modal_retrieval") ?? 0
        var recentRates: [Double] = []
        while position.stageStep < stage.steps && !position.stopped {
            if let stop = stopAfterGlobalStep, position.globalStep >= stop { return }
            let started = Date()
            optimizer.learningRate = schedule.learningRate(at: position.stageStep)
            var accumulator = GradientAccumulator()
            var lossValue: Float = 0
            var parts: [String: Double] = [:]
            var samples = 0
            for _ in 0..<stage.accumulation {
                let (value, gradients) = valueAndGrad(modules) { m -> Tensor in
                    switch stage.kind {
                    case .pretrain:
                        var total = Tensor(0)
                        for modality in pretrainModalities {
                            let pool = pretrainPools[modality]!
                            let indices = (0..<stage.batchSize).map { _ in pool[sampler.nextInt(below: pool.count)] }
                            let (loss, name) = StageObjective.pretrain(m, corpus: train, modality: modality, indices: indices, generator: masking)
                            parts[name] = Double(loss.item())
                            total = total + loss
                            samples += indices.count
                        }
                        return total
                    case .align:
                        let indices = drawBatch(pools, size: stage.batchSize, generator: sampler)
                        samples += indices.count
                        let (loss, p) = StageObjective.align(m, corpus: train, indices: indices, taskIndex: alignTask)
                        for (k, v) in p { parts[k] = Double(v.item()) }
                        return loss
                    case .instruct:
                        let indices = drawBatch(pools, size: stage.batchSize, generator: sampler)
                        samples += indices.count
                        let loss = StageObjective.instruct(m, corpus: train, indices: indices, generator: sampler)
                        guard let term = stage.alignment, let alignmentPools else { return loss }
                        parts["instruct"] = Double(loss.item())
                        let pairs = drawBatch(alignmentPools, size: term.batchSize, generator: sampler)
                        let (alignment, p) = StageObjective.align(m, corpus: train, indices: pairs, taskIndex: alignTask)
                        for (k, v) in p { parts[k] = Double(v.item()) }
                        return loss + alignment * term.weight
                    }
                }
                lossValue += value.item() / Float(stage.accumulation)
                accumulator.add(gradients)
            }
            var gradients = accumulator.mean()
            if let clip = stage.clipNorm { gradients = clipByGlobalNorm(gradients, maxNorm: clip).gradients }
            optimizer.update(modules, gradients: gradients)
            if stage.kind == .align { modules.logitScale.clampParameter() }
            position.stageStep += 1
            position.globalStep += 1
            position.sampler = sampler.state
            position.masking = masking.state
            let seconds = Date().timeIntervalSince(started)
            let rate = Double(samples) / max(seconds, 1e-9)
            recentRates.append(rate)
            var values = parts
            values["loss"] = Double(lossValue)
            values["lr"] = Double(optimizer.learningRate)
            values["samples_per_s"] = rate
            values["stage"] = Double(position.stage)
            if stage.kind == .align { values["temperature"] = Double(modules.logitScale.temperature) }
            try trainLog.append(step: position.globalStep, values)
            let left = Double(stage.steps - position.stageStep) * median(recentRates.suffix(20).map { Double(stage.batchSize * stage.accumulation) / $0 })
            progress?(TrainerProgress(stage: stage.kind, stageStep: position.stageStep, stageSteps: stage.steps,
                                      globalStep: position.globalStep, loss: lossValue, samplesPerSecond: rate,
                                      secondsLeftInStage: left, message: nil))
            let last = position.stageStep == stage.steps
            if let evaluate, let validation, (stage.evaluateEvery > 0 && position.stageStep % stage.evaluateEvery == 0) || last {
                modules.eval()
                let metrics = GradMode.withoutGrad { evaluate(modules.model, validation, stage.kind) }
                modules.train()
                try evalLog.append(step: position.globalStep, metrics.merging(["stage": Double(position.stage)]) { a, _ in a })
                if let key = metrics.keys.sorted().first(where: { $0.hasPrefix("score") }), let score = metrics[key] {
                    if position.best.map({ score > $0 }) ?? true { position.best = score; position.sinceBest = 0 } else { position.sinceBest += 1 }
                    if let patience = stage.patience, position.sinceBest >= patience {
                        position.stopped = true
                        progress?(TrainerProgress(stage: stage.kind, stageStep: position.stageStep, stageSteps: stage.steps,
                                                  globalStep: position.globalStep, loss: lossValue, samplesPerSecond: rate,
                                                  secondsLeftInStage: 0, message: "early stop: no improvement in \(patience) evaluations"))
                    }
                }
            }
            if position.globalStep % run.checkpointEvery == 0 || last || position.stopped {
                try store.save(step: position.globalStep, model: modules, optimizer: optimizer, state: position)
            }
        }
        throughput[stage.kind] = median(recentRates)
    }

    func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    // MARK: Output

    /// Writes `model/`: the trained model (without the pre-training heads) and its tokenizer.
    public func export() throws -> URL {
        let out = URL(fileURLWithPath: directory + "/model")
        try modules.model.save(to: out)
        let tokenizer = URL(fileURLWithPath: directory + "/" + Trainer.tokenizerFile)
        let target = out.appending(path: Trainer.tokenizerFile)
        try? FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: tokenizer, to: target)
        return out
    }

    /// Loss and metric curves as PNGs under `plots/`.
    public func writePlots() throws {
        try FileManager.default.createDirectory(atPath: directory + "/plots", withIntermediateDirectories: true)
        let records = try trainLog.records()
        guard !records.isEmpty else { return }
        let loss = records.compactMap { r in r.values["loss"].map { (Double(r.step), $0) } }
        let plot = LinePlot(title: "training loss", xLabel: "step", yLabel: "loss", series: [.init(name: "loss", points: loss)])
        try plot.write(to: directory + "/plots/loss.png")
        let evals = try evalLog.records()
        let keys = Set(evals.flatMap { $0.values.keys }).filter { $0 != "stage" }.sorted()
        if !keys.isEmpty {
            let metrics = LinePlot(title: "validation", xLabel: "step", yLabel: "metric", series: keys.map { k in
                .init(name: k, points: evals.compactMap { r in r.values[k].map { (Double(r.step), $0) } })
            })
            try metrics.write(to: directory + "/plots/validation.png")
        }
    }
}
