// The built-in demo corpus (`omni data synth`): thousands of linked samples generated offline and
// deterministically from a seed — rendered scenes with captions and questions, the captions
// spoken by espeak-ng, short motion clips, vibration recordings with fault labels — written as
// files plus JSONL manifests (train / validation / test).
import Dispatch
import Foundation
import OmniTensor

/// A visual question with its exact answer.
public struct SceneQuestion: Codable, Sendable, Equatable {
    /// What the question asks about; also the answer vocabulary it draws from.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case color, shape, count, size, exists
    }

    public var kind: Kind
    public var question: String
    public var answer: String

    /// The possible answers of a kind, for chance levels and classification.
    public static func answers(for kind: Kind) -> [String] {
        switch kind {
        case .color: return ColorName.allCases.map(\.rawValue)
        case .shape: return ShapeKind.allCases.map(\.rawValue)
        case .count: return Array(ShapeScene.countWords[1...ShapeScene.maximumCount])
        case .size: return SizeClass.allCases.map(\.rawValue)
        case .exists: return ["yes", "no"]
        }
    }

    /// A question about `spec` of the given kind, phrased one of several ways.
    public static func make(_ kind: Kind, about spec: SceneSpec, generator: Generator) -> SceneQuestion {
        func pick(_ options: [String]) -> String { options[generator.nextInt(below: options.count)] }
        switch kind {
        case .color:
            return SceneQuestion(kind: kind, question: pick(["what color are the shapes?", "which color is shown?",
                                                             "what is the color of the objects?"]), answer: spec.color.rawValue)
        case .shape:
            return SceneQuestion(kind: kind, question: pick(["what shape is shown?", "which shape do you see?",
                                                             "what kind of shape is in the picture?"]), answer: spec.shape.rawValue)
        case .count:
            return SceneQuestion(kind: kind, question: pick(["how many shapes are there?", "how many objects are shown?",
                                                             "count the shapes."]), answer: ShapeScene.countWords[spec.count])
        case .size:
            return SceneQuestion(kind: kind, question: pick(["are the shapes small or large?", "what size are the objects?"]),
                                 answer: spec.size.rawValue)
        case .exists:
            // half the time ask about the true colour and shape, else change one of them
            let truth = generator.nextInt(below: 2) == 0
            var color = spec.color, shape = spec.shape
            if !truth {
                if generator.nextInt(below: 2) == 0 {
                    color = ColorName.allCases.filter { $0 != spec.color }[generator.nextInt(below: ColorName.allCases.count - 1)]
                } else {
                    shape = ShapeKind.allCases.filter { $0 != spec.shape }[generator.nextInt(below: ShapeKind.allCases.count - 1)]
                }
            }
            return SceneQuestion(kind: kind, question: pick(["is there a \(color.rawValue) \(shape.rawValue)?",
                                                             "do you see a \(color.rawValue) \(shape.rawValue)?"]),
                                 answer: truth ? "yes" : "no")
        }
    }
}

/// How big a demo corpus to make.
public struct DemoCorpusConfiguration: Codable, Sendable, Equatable {
    public var seed: UInt64 = 0
    /// Image side in pixels.
    public var imageSide = 64
    /// Training scenes (each: an image, its caption and one question).
    public var trainScenes = 2400
    /// Training speech clips (a caption of a random scene spec, spoken).
    public var trainSpeech = 1200
    /// Training motion clips and vibration recordings.
    public var trainClips = 240
    public var trainSignals = 300
    /// Held-out scenes whose specs are all different (retrieval galleries: image, audio, text).
    public var testScenes = 100
    /// Held-out questions.
    public var testQuestions = 400
    /// Validation scenes (image + caption + audio + a question), for periodic evaluation.
    public var validationScenes = 100
    /// Video frames per clip.
    public var clipFrames = 8
    /// Vibration length and rate.
    public var signalSeconds = 1.0
    public var signalRate = 2000
    /// Worker threads.
    public var threads = 2

    public init() {}

    /// A corpus small enough for tests.
    public static var small: DemoCorpusConfiguration {
        var c = DemoCorpusConfiguration()
        c.trainScenes = 24; c.trainSpeech = 8; c.trainClips = 4; c.trainSignals = 6
        c.testScenes = 8; c.testQuestions = 10; c.validationScenes = 6
        return c
    }
}

/// What was written.
public struct DemoCorpusSummary: Codable, Sendable {
    public var directory: String
    public var configuration: DemoCorpusConfiguration
    public var files: [String: Int]
    public var manifests: [String: Int]
    public var seconds: Double
    /// Chance level per question kind (1 / number of answers) and over the test mixture.
    public var questionChance: [String: Double]
}

/// Writes the demo corpus.
///
/// Layout: `images/`, `audio/`, `video/` (lossless FFV1 Matroska clips, `VideoWriter`, at
/// ``clipFPS``), `signals/` (`.npy`, [3, samples]), and manifests `train.jsonl`, `validation.jsonl`,
/// `test.jsonl` (paths relative to the corpus folder), plus `corpus.json` with the configuration
/// and counts. Training lines never pair an image with audio, so image↔audio retrieval on the
/// test split is zero-shot.
public enum DemoCorpus {
    /// Frame rate of the motion clips.
    public static let clipFPS = 8

    public static func generate(into directory: String, configuration c: DemoCorpusConfiguration = .init(),
                                progress: (@Sendable (String) -> Void)? = nil) throws -> DemoCorpusSummary {
        let start = Date()
        let fm = FileManager.default
        for sub in ["images", "audio", "video", "signals"] {
            try fm.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
        let specs = SceneSpec.all
        // Held-out retrieval specs: a seeded choice of distinct specs.
        let order = Tensor.randperm(specs.count, generator: Generator(seed: c.seed ^ 0x7E57)).toIntArray()
        let testSpecs = order.prefix(Swift.min(c.testScenes, specs.count)).map { specs[$0] }

        var train: [ManifestSample] = [], validation: [ManifestSample] = [], test: [ManifestSample] = []
        // Each job gets its own generator from (seed, job kind, index): the output does not depend
        // on the thread count or on scheduling.
        func rng(_ kind: UInt64, _ i: Int) -> Generator { Generator(seed: c.seed &* 0x9E3779B97F4A7C15 &+ kind << 40 &+ UInt64(i)) }
        func parallel(_ count: Int, _ name: String, _ body: (Int) throws -> [ManifestSample]) throws -> [ManifestSample] {
            let results = try withoutActuallyEscaping(body) { body in
                try ParallelJobs.run(count: count, threads: c.threads, UncheckedSendable(body))
            }
            progress?("\(name): \(count)")
            return results.flatMap { $0 }
        }
        func relative(_ sub: String, _ name: String) -> String { sub + "/" + name }
        func writeImage(_ image: Image, _ name: String) throws {
            try image.write(toFile: directory + "/images/" + name)
        }
        func speak(_ text: String, _ g: Generator, _ name: String) throws {
            var voice = SpeechVoice.demoVoices[g.nextInt(below: SpeechVoice.demoVoices.count)]
            voice.wordsPerMinute += g.nextInt(below: 41) - 20
            voice.pitch = Swift.max(0, Swift.min(99, voice.pitch + g.nextInt(below: 21) - 10))
            try SpeechSynthesizer.speak(text, voice: voice, to: directory + "/audio/" + name)
        }

        // Training scenes: image + caption, image + question.
        train += try parallel(c.trainScenes, "train scenes") { i in
            let g = rng(1, i)
            let spec = specs[g.nextInt(below: specs.count)]
            let name = String(format: "scene-%06d.png", i)
            try writeImage(ShapeScene.render(spec, side: c.imageSide, generator: g), name)
            let q = SceneQuestion.make(SceneQuestion.Kind.allCases[g.nextInt(below: SceneQuestion.Kind.allCases.count)], about: spec, generator: g)
            return [ManifestSample(id: "scene-\(i)-caption", text: spec.caption, image: relative("images", name), task: "image_captioning", target: .string(spec.caption)),
                    ManifestSample(id: "scene-\(i)-vqa-\(q.kind.rawValue)", text: q.question, image: relative("images", name), task: "visual_question_answering", target: .string(q.answer))]
        }
        // Training speech: a spoken caption paired with its text (never with an image).
        train += try parallel(c.trainSpeech, "train speech") { i in
            let g = rng(2, i)
            let spec = specs[g.nextInt(below: specs.count)]
            let name = String(format: "speech-%06d.wav", i)
            try speak(spec.caption, g, name)
            return [ManifestSample(id: "speech-\(i)", text: spec.caption, audio: relative("audio", name), task: "speech_transcription", target: .string(spec.caption))]
        }
        // Motion clips.
        train += try parallel(c.trainClips, "train clips") { i in
            let g = rng(3, i)
            let shape = ShapeKind.allCases[g.nextInt(below: ShapeKind.allCases.count)]
            let color = ColorName.allCases[g.nextInt(below: ColorName.allCases.count)]
            let direction = MotionDirection.allCases[g.nextInt(below: MotionDirection.allCases.count)]
            let frames = MotionClip.render(shape: shape, color: color, direction: direction, frames: c.clipFrames, side: c.imageSide, generator: g)
            let file = String(format: "clip-%06d.", i) + VideoCodec.ffv1.fileExtension
            try VideoWriter.write(frames, fps: clipFPS, to: directory + "/video/" + file, codec: .ffv1)
            let caption = MotionClip.caption(shape: shape, color: color, direction: direction)
            return [ManifestSample(id: "clip-\(i)", text: caption, video: relative("video", file), task: "video_captioning", target: .string(caption))]
        }
        // Vibration recordings.
        train += try parallel(c.trainSignals, "train signals") { i in
            let g = rng(4, i)
            let condition = MachineCondition.allCases[i % MachineCondition.allCases.count]
            let (x, _) = VibrationSynthesizer.signal(condition, seconds: c.signalSeconds, rate: c.signalRate, generator: g)
            let name = String(format: "machine-%06d.npy", i)
            try writeNPY(x, directory + "/signals/" + name)
            return [ManifestSample(id: "machine-\(i)", text: "vibration of \(condition.phrase)", signal: relative("signals", name),
                                   task: "vibration_fault_classification", target: .string(condition.rawValue))]
        }

        // Validation: image, audio and caption of the same spec, and a question.
        validation += try parallel(c.validationScenes, "validation scenes") { i in
            let g = rng(5, i)
            let spec = specs[g.nextInt(below: specs.count)]
            let image = String(format: "val-%06d.png", i), audio = String(format: "val-%06d.wav", i)
            try writeImage(ShapeScene.render(spec, side: c.imageSide, generator: g), image)
            try speak(spec.caption, g, audio)
            let q = SceneQuestion.make(SceneQuestion.Kind.allCases[i % SceneQuestion.Kind.allCases.count], about: spec, generator: g)
            return [ManifestSample(id: "val-\(i)-retrieval", text: spec.caption, image: relative("images", image), audio: relative("audio", audio), task: "cross_modal_retrieval", target: .string(spec.caption)),
                    ManifestSample(id: "val-\(i)-vqa-\(q.kind.rawValue)", text: q.question, image: relative("images", image), task: "visual_question_answering", target: .string(q.answer))]
        }
        // Test: distinct specs for retrieval (image, audio, caption), and questions on new renders.
        test += try parallel(testSpecs.count, "test retrieval") { i in
            let g = rng(6, i)
            let spec = testSpecs[i]
            let image = String(format: "test-%06d.png", i), audio = String(format: "test-%06d.wav", i)
            try writeImage(ShapeScene.render(spec, side: c.imageSide, generator: g), image)
            try speak(spec.caption, g, audio)
            return [ManifestSample(id: "test-\(i)-retrieval", text: spec.caption, image: relative("images", image), audio: relative("audio", audio), task: "cross_modal_retrieval", target: .string(spec.caption))]
        }
        test += try parallel(c.testQuestions, "test questions") { i in
            let g = rng(7, i)
            let spec = specs[g.nextInt(below: specs.count)]
            let image = String(format: "testq-%06d.png", i)
            try writeImage(ShapeScene.render(spec, side: c.imageSide, generator: g), image)
            let q = SceneQuestion.make(SceneQuestion.Kind.allCases[i % SceneQuestion.Kind.allCases.count], about: spec, generator: g)
            return [ManifestSample(id: "testq-\(i)-vqa-\(q.kind.rawValue)", text: q.question, image: relative("images", image), task: "visual_question_answering", target: .string(q.answer))]
        }

        var manifests: [String: Int] = [:]
        for (name, lines) in [("train", train), ("validation", validation), ("test", test)] {
            try writeManifest(lines, to: directory + "/\(name).jsonl")
            manifests[name] = lines.count
        }
        var files: [String: Int] = [:]
        for sub in ["images", "audio", "video", "signals"] { files[sub] = (try? fm.contentsOfDirectory(atPath: directory + "/" + sub).count) ?? 0 }
        // Test questions cycle through the kinds, so the mixture's chance is the mean of the kinds'.
        var chance: [String: Double] = [:]
        for k in SceneQuestion.Kind.allCases { chance[k.rawValue] = 1 / Double(SceneQuestion.answers(for: k).count) }
        chance["mixture"] = chance.values.reduce(0, +) / Double(SceneQuestion.Kind.allCases.count)
        let summary = DemoCorpusSummary(directory: directory, configuration: c, files: files, manifests: manifests,
                                        seconds: Date().timeIntervalSince(start), questionChance: chance)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(summary).write(to: URL(fileURLWithPath: directory + "/corpus.json"), options: .atomic)
        return summary
    }

    static func writeManifest(_ samples: [ManifestSample], to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = Data()
        for s in samples { out += try encoder.encode(s); out.append(0x0A) }
        try out.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// A little-endian float32 C-order `.npy` (version 1.0).
    static func writeNPY(_ t: Tensor, _ path: String) throws {
        let shape = "(" + t.shape.map(String.init).joined(separator: ", ") + (t.rank == 1 ? ",)" : ")")
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
        bytes += header
        t.contiguous().withUnsafeBytes { bytes += $0 }
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// Wraps a value that is only used in ways the caller has made safe (here: job bodies that
/// write distinct files and return their own results).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Runs `count` jobs on `threads` workers; results come back in job order, and the first error
/// thrown stops the remaining jobs and is rethrown.
enum ParallelJobs {
    static func run<R>(count: Int, threads: Int, _ body: UncheckedSendable<(Int) throws -> R>) throws -> [R] {
        let state = ParallelJobState<R>(count)
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: Swift.max(1, Swift.min(threads, count))) { _ in
            while let i = next.take(below: count) {
                state.lock.lock(); let failed = state.error != nil; state.lock.unlock()
                if failed { return }
                do {
                    let r = try body.value(i)
                    state.lock.lock(); state.results[i] = r; state.lock.unlock()
                } catch {
                    state.lock.lock(); if state.error == nil { state.error = error }; state.lock.unlock()
                }
            }
        }
        if let error = state.error { throw error }
        return state.results.map { $0! }
    }
}

final class ParallelJobState<R>: @unchecked Sendable {
    let lock = NSLock()
    var results: [R?]
    var error: Error?
    init(_ n: Int) { results = Array(repeating: nil, count: n) }
}

/// A shared index handed out to worker threads.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func take(below limit: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
