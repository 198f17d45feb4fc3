// `omni train` end to end on a tiny generated corpus: killing the process with SIGKILL at a random
// moment and running the same command again reaches the same final weights, bit for bit, as an
// uninterrupted run; the newest checkpoint is always loadable.
import Foundation
import OmniData
import OmniModels
import OmniTensor
import OmniTrain
import Testing

@Suite(.serialized) struct TrainResumeCLITests {
    /// A micro model and three short stages over a small corpus.
    static func runConfiguration(corpus: String) -> RunConfiguration {
        let d = 16, heads = 2, vocab = 300
        let vit = VisionTransformerConfiguration(imageSize: 64, patchSize: 16, dimension: d, depth: 1, heads: heads,
                                                 mlpHiddenSize: 32, classCount: 0)
        let image = ImageEncoderConfiguration(backbone: .vit(vit), dimension: d)
        let model = OmniModelConfiguration(
            name: "micro", dimension: d,
            text: .rotary(vocabSize: vocab, dimension: d, layers: 1, heads: heads, maxLength: 48),
            image: image,
            audio: .whisper(melBins: 80, dimension: d, layers: 1, heads: heads),
            video: VideoEncoderConfiguration(frames: image, depth: 1, heads: heads, maxFrames: 8),
            signal: SignalEncoderConfig(sampleRate: 2000, dimension: d, window: 64, hop: 32, stageChannels: [4], stageTimeStrides: [4],
                                        layers: 1, heads: heads),
            fusion: FusionConfiguration(kind: .dynamic, depth: 1, heads: heads),
            heads: HeadsConfiguration(embeddingDimension: 8,
                                      decoder: TextDecoderConfig(vocabSize: vocab, dimension: d, layers: 1, heads: heads, maxLength: 64)))
        let stages = [
            StageConfiguration(kind: .pretrain, steps: 3, batchSize: 4, learningRate: 1e-3, warmupSteps: 1),
            StageConfiguration(kind: .align, steps: 4, batchSize: 6, learningRate: 1e-3, warmupSteps: 1),
            StageConfiguration(kind: .instruct, steps: 4, batchSize: 6, learningRate: 1e-3, warmupSteps: 1),
        ]
        return RunConfiguration(preset: nil, model: model, corpus: corpus, vocabularySize: vocab, seed: 3, threads: 2,
                                stages: stages, checkpointEvery: 1, keepCheckpoints: 2)
    }

    @Test func killedRunResumesToTheSameWeights() throws {
        let base = FileManager.default.temporaryDirectory.appending(path: "omni-resume-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let synth = try omni(["data", "synth", "--out", base + "/corpus", "--small", "--seed", "4"])
        #expect(synth.status == 0, "stderr: \(synth.stderr)")
        let config = base + "/run.json"
        try JSONEncoder().encode(Self.runConfiguration(corpus: base + "/corpus")).write(to: URL(fileURLWithPath: config))

        // uninterrupted
        let started = Date()
        let a = try omni(["train", "--config", config, "--out", base + "/a"])
        let duration = Date().timeIntervalSince(started)
        #expect(a.status == 0, "stderr: \(a.stderr)")
        let json = try #require(jsonObject(a.lastLine) as? [String: Any], "last line: \(a.lastLine)")
        #expect((json["steps"] as? Int) == 11)

        // killed at a random moment (after start-up, before the end), then resumed
        var rng = SystemRandomNumberGenerator()
        let delay = Double.random(in: 0.35...0.85, using: &rng) * duration
        let process = Process()
        process.executableURL = Bundle.main.bundleURL.appendingPathComponent("omni")
        process.arguments = ["train", "--config", config, "--out", base + "/b"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: delay)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run ended before the kill (\(delay) s of \(duration) s)")
        // whatever moment the kill hit, the newest checkpoint verifies
        let store = try CheckpointStore(directory: base + "/b/checkpoints", keepLast: 2)
        if let latest = store.latest() { try latest.verify() }
        let b = try omni(["train", "--config", config, "--out", base + "/b"])
        #expect(b.status == 0, "stderr: \(b.stderr)")
        let weightsA = FileManager.default.contents(atPath: base + "/a/model/model.safetensors")
        let weightsB = FileManager.default.contents(atPath: base + "/b/model/model.safetensors")
        #expect(weightsA != nil && weightsA == weightsB, "killed after \(String(format: "%.1f", delay)) s of \(String(format: "%.1f", duration)) s; resumed weights differ")
        // the trained folder answers prompts and evaluates (the micro model is not expected to be right)
        let image = base + "/corpus/images/test-000000.png"
        let infer = try omni(["infer", "--model", base + "/a/model", "--image", image, "--prompt", "what color are the shapes?"])
        #expect(infer.status == 0, "stderr: \(infer.stderr)")
        #expect((jsonObject(infer.lastLine) as? [String: Any])?["answer"] is String, "last line: \(infer.lastLine)")
        let eval = try omni(["eval", "--model", base + "/a/model", "--manifest", base + "/corpus/test.jsonl"])
        #expect(eval.status == 0, "stderr: \(eval.stderr)")
        let report = try #require(jsonObject(eval.lastLine) as? [String: Any], "last line: \(eval.lastLine)")
        #expect(report["imageTextR1"] is Double && report["vqaAccuracy"] is Double)
        let missing = try omni(["infer", "--model", base + "/a/model", "--image", base + "/nope.png", "--prompt", "x"])
        #expect(missing.status != 0 && missing.stderr.contains("nope.png"))
        // the logs hold each step once
        let log = try String(contentsOfFile: base + "/b/logs/train.jsonl", encoding: .utf8)
        #expect(log.split(separator: "\n").count == 11)
    }
}
