// A manifest decoded once into memory, in the shapes the model's encoders take: tokens, images at
// the model's side, log-mel spectrograms, video frames and signals. Training then draws batches
// from memory, so a step costs only the model's compute — what a 2-core demo needs.
import Foundation
import OmniData
import OmniModels
import OmniNN
import OmniTensor

/// One decoded sample.
public struct PreparedSample: @unchecked Sendable {
    public var id: String
    /// Manifest task name ("" when absent).
    public var task: String
    /// Tokens of the sample's input text (no special tokens).
    public var text: [Int]?
    /// The input text as written.
    public var inputText: String?
    /// [3, S, S], normalised to about [-1, 1].
    public var image: Tensor?
    /// Log-mel [80, T].
    public var audio: Tensor?
    /// [F, 3, S, S].
    public var video: Tensor?
    /// [C, S] at the model's signal rate.
    public var signal: Tensor?
    /// The target as text (string targets; numbers are written out) and its tokens.
    public var targetText: String?
    public var target: [Int]?

    /// The modalities this sample carries (text = input text).
    public var modalities: Set<Modality> {
        var m = Set<Modality>()
        if text != nil { m.insert(.text) }
        if image != nil { m.insert(.image) }
        if audio != nil { m.insert(.audio) }
        if video != nil { m.insert(.video) }
        if signal != nil { m.insert(.signal) }
        return m
    }
}

/// How to decode a manifest for a model.
public struct CorpusPreparation: Sendable {
    /// Image side (the ViT's `imageSize`).
    public var imageSide: Int
    /// Most mel frames kept (100 per second).
    public var maxAudioFrames: Int
    /// Frames per video (uniformly spaced).
    public var videoFrames: Int
    /// The signal encoder's rate; signals are resampled to it.
    public var signalRate: Double
    /// Most tokens of an input text or a target.
    public var maxTextTokens: Int
    /// Whisper's mel filters [80, 201].
    public var melFilters: Tensor
    public var threads: Int

    public init(imageSide: Int, maxAudioFrames: Int = 400, videoFrames: Int = 8, signalRate: Double,
                maxTextTokens: Int = 48, melFilters: Tensor, threads: Int = 2) {
        self.imageSide = imageSide; self.maxAudioFrames = maxAudioFrames; self.videoFrames = videoFrames
        self.signalRate = signalRate; self.maxTextTokens = maxTextTokens; self.melFilters = melFilters; self.threads = threads
    }

    /// The settings a model configuration implies (image side from its ViT, frames per clip from
    /// its video encoder, signal rate from its signal encoder), with Whisper's 80-mel filters from the fetched assets.
    public static func forModel(_ c: OmniModelConfiguration, threads: Int = 2) throws -> CorpusPreparation {
        var side = 64
        if case .vit(let v)? = c.image?.backbone { side = v.imageSize }
        let path = Assets.file("whisper/mel_filters.npz").path
        guard let filters = try? NPZ.read(contentsOf: path)["mel_80"] else {
            throw OmniModelError(file: path, "Whisper's mel filters are missing (run scripts/fetch-assets)")
        }
        return CorpusPreparation(imageSide: side, videoFrames: c.video?.framesPerClip ?? 8, signalRate: c.signal?.sampleRate ?? 2000,
                                 maxTextTokens: c.text?.maxLength ?? 48, melFilters: filters, threads: threads)
    }
}

/// Special tokens of the demo tokenizer.
public enum SpecialToken {
    public static let pad = "<pad>", bos = "<bos>", eos = "<eos>", mask = "<mask>"
    public static let all = [pad, bos, eos, mask]
}

/// A manifest in memory.
public final class PreparedCorpus: @unchecked Sendable {
    public let samples: [PreparedSample]
    public let tokenizer: TiktokenTokenizer
    public let preparation: CorpusPreparation
    public let source: String

    public init(samples: [PreparedSample], tokenizer: TiktokenTokenizer, preparation: CorpusPreparation, source: String) {
        self.samples = samples; self.tokenizer = tokenizer; self.preparation = preparation; self.source = source
    }

    public var count: Int { samples.count }
    public var padID: Int { tokenizer.specialTokens[SpecialToken.pad]! }
    public var bosID: Int { tokenizer.specialTokens[SpecialToken.bos]! }
    public var eosID: Int { tokenizer.specialTokens[SpecialToken.eos]! }
    public var maskID: Int { tokenizer.specialTokens[SpecialToken.mask]! }

    /// The model input of an image: ``ImagePreprocessing/modelInput(_:side:normalization:)``
    /// (RGB, side × side, mean/std 0.5), the same function `omni explain` and `omni infer` use.
    public static func imageInput(_ image: Image, side: Int) -> Tensor {
        ImagePreprocessing.modelInput(image, side: side)                       // [3, S, S]
    }

    /// Trains a byte-level BPE tokenizer on every text of the manifests (inputs and targets), with
    /// the special tokens `<pad> <bos> <eos> <mask>`.
    public static func trainTokenizer(manifests: [URL], vocabularySize: Int) throws -> TiktokenTokenizer {
        var texts: [String] = []
        for url in manifests {
            let m = try Manifest.load(contentsOf: url)
            for s in m.samples {
                if let t = s.text { texts.append(t) }
                if case .string(let t)? = s.target { texts.append(t) }
            }
        }
        return BPETrainer(vocabularySize: vocabularySize, specialTokens: SpecialToken.all).train(on: texts)
    }

    /// Decodes every sample of a manifest (in parallel, in manifest order). A sample that fails to
    /// decode throws an error naming its line and file.
    public static func load(manifest url: URL, tokenizer: TiktokenTokenizer, preparation p: CorpusPreparation) throws -> PreparedCorpus {
        let manifest = try Manifest.load(contentsOf: url)
        if let bad = manifest.issues.first(where: { $0.severity == .error }) {
            throw OmniModelError(file: url.path, "line \(bad.line): \(bad.message) (omni data validate lists every problem)")
        }
        for s in SpecialToken.all where tokenizer.specialTokens[s] == nil {
            throw OmniModelError(file: url.path, "the tokenizer has no \(s) token")
        }
        let samples = manifest.samples
        let results = SampleResults(samples.count)
        let next = SampleCounter()
        DispatchQueue.concurrentPerform(iterations: max(1, p.threads)) { _ in
            while let i = next.take(below: samples.count) {
                if results.failed { return }
                do {
                    results.set(i, try prepare(samples[i], line: manifest.sampleLines[i], manifest: manifest, tokenizer: tokenizer, p: p))
                } catch {
                    results.fail(error)
                }
            }
        }
        if let error = results.error { throw error }
        return PreparedCorpus(samples: results.values.map { $0! }, tokenizer: tokenizer, preparation: p, source: url.path)
    }

    static func prepare(_ s: ManifestSample, line: Int, manifest: Manifest, tokenizer: TiktokenTokenizer,
                        p: CorpusPreparation) throws -> PreparedSample {
        func fail(_ what: String, _ path: String, _ error: Any) -> OmniModelError {
            OmniModelError(file: manifest.url.path, "line \(line) (sample '\(s.id)'): \(what) \(path): \(error)")
        }
        func tokens(_ text: String) -> [Int] { Array(tokenizer.encode(text, addSpecialTokens: false).prefix(p.maxTextTokens)) }
        var out = PreparedSample(id: s.id, task: s.task ?? "")
        if let t = s.text { out.text = tokens(t); out.inputText = t }
        if let path = s.image {
            let file = manifest.url(for: path).path
            do { out.image = imageInput(try Image(contentsOfFile: file), side: p.imageSide) } catch { throw fail("image", file, error) }
        }
        if let path = s.audio {
            let file = manifest.url(for: path).path
            do {
                var samples = try AudioFile(contentsOf: file).whisperSamples()
                samples = Array(samples.prefix(p.maxAudioFrames * WhisperMel.hopLength))
                guard samples.count > WhisperMel.nFft else { throw AudioTooShort() }
                out.audio = WhisperMel.logMelSpectrogram(samples: samples, nMels: 80, filters: p.melFilters)   // [80, T]
            } catch { throw fail("audio", file, error) }
        }
        if let path = s.video {
            let file = manifest.url(for: path).path
            do {
                let reader = try VideoReader(contentsOf: file)
                let count = min(p.videoFrames, reader.info.frameCount)
                let indices = VideoReader.uniformIndices(count: count, frameCount: reader.info.frameCount)
                out.video = Tensor.stacked(try indices.map { imageInput(try reader.frame(at: $0), side: p.imageSide) })   // [F, 3, S, S]
            } catch { throw fail("video", file, error) }
        }
        if let path = s.signal {
            let file = manifest.url(for: path).path
            do {
                var signal = try Signal(contentsOf: file, sampleRate: p.signalRate)
                if signal.sampleRate != p.signalRate { signal = signal.resampled(to: p.signalRate) }
                out.signal = signal.tensor()
            } catch { throw fail("signal", file, error) }
        }
        switch s.target {
        case .string(let t)?: out.targetText = t
        case .number(let x)?: out.targetText = x == x.rounded() ? String(Int(x)) : String(x)
        case .array(let a)?: out.targetText = a.map { "\($0)" }.joined(separator: " ")
        case nil: break
        }
        if let t = out.targetText { out.target = tokens(t) }
        return out
    }

    struct AudioTooShort: Error, CustomStringConvertible { var description: String { "shorter than one 25 ms frame" } }

    // MARK: Batches

    /// The encoder batches of the samples at `indices`, for the given modalities (a sample lacking
    /// one gets an empty / nil entry, masked out).
    public func input(_ indices: [Int], modalities: Set<Modality>, tasks: [Int]) -> OmniInput {
        let picked = indices.map { samples[$0] }
        var input = OmniInput(tasks: tasks)
        if modalities.contains(.text) {
            input.text = TextEncoder.Batch(sequences: picked.map { $0.text ?? [] }, padID: padID)
        }
        if modalities.contains(.image) { input.image = ImageBatch(images: picked.map(\.image)) }
        if modalities.contains(.video) { input.video = VideoBatch(videos: picked.map(\.video)) }
        if modalities.contains(.audio) {
            let frames = picked.map { $0.audio?.shape[1] ?? 0 }
            let t = max(frames.max() ?? 0, 2)
            let mel = Tensor.stacked(picked.map { s -> Tensor in
                guard let a = s.audio else { return Tensor.zeros([80, t]) }
                return a.shape[1] == t ? a : a.padded([(0, 0), (0, t - a.shape[1])])
            })                                                                                  // [B, 80, T]
            input.audio = AudioEncoder.Batch(logMel: mel, frames: frames)
        }
        if modalities.contains(.signal) {
            let channels = picked.map { $0.signal?.shape[0] ?? 0 }, lengths = picked.map { $0.signal?.shape[1] ?? 0 }
            let c = max(channels.max() ?? 1, 1), n = max(lengths.max() ?? 1, 1)
            let values = Tensor.stacked(picked.map { s -> Tensor in
                guard let x = s.signal else { return Tensor.zeros([c, n]) }
                return x.padded([(0, c - x.shape[0]), (0, n - x.shape[1])])
            })                                                                                  // [B, C, S]
            input.signal = SignalEncoder.Batch(values: values, lengths: lengths, channelCounts: channels,
                                               sampleRate: preparation.signalRate)
        }
        return input
    }

    /// Teacher-forcing tensors for the decoder: inputs `prefix <bos> t…` and targets
    /// `-100… t… <eos>` as int64 [B, T] (inputs padded with `<pad>`, targets with -100, which the
    /// loss ignores). The prefix (the instruction prompt) is read by the decoder but not predicted;
    /// it is cut from the front so that the sequence fits `maxLength`.
    public func decoderTargets(_ indices: [Int], prefixes: [[Int]]? = nil, maxLength: Int = .max) -> (inputs: Tensor, targets: Tensor) {
        let rows = indices.map { samples[$0].target ?? [] }
        var sequences: [([Int], [Int])] = []
        for (k, r) in rows.enumerated() {
            var prefix = prefixes?[k] ?? []
            let room = max(0, maxLength - r.count - 2)
            if prefix.count > room { prefix = Array(prefix.suffix(room)) }
            sequences.append((prefix + [bosID] + r, Array(repeating: -100, count: prefix.count) + r + [eosID]))
        }
        let t = sequences.map(\.0.count).max() ?? 1
        var inputs: [Int] = [], targets: [Int] = []
        for (i, o) in sequences {
            inputs += i + Array(repeating: padID, count: t - i.count)
            targets += o + Array(repeating: -100, count: t - o.count)
        }
        return (Tensor(inputs, shape: [rows.count, t], dtype: .int64), Tensor(targets, shape: [rows.count, t], dtype: .int64))
    }

    /// The generation prompt for a prefix: `prefix <bos>`, cut like ``decoderTargets(_:prefixes:maxLength:)``.
    public func generationPrompt(_ prefix: [Int], maxLength: Int, answerRoom: Int) -> [Int] {
        let room = max(0, maxLength - answerRoom - 2)
        return Array(prefix.suffix(room)) + [bosID]
    }

    /// Indices of the samples whose task is `task` (any task when nil) and that carry every one of
    /// `modalities`.
    public func indices(task: String? = nil, having modalities: Set<Modality>) -> [Int] {
        samples.indices.filter { i in
            (task == nil || samples[i].task == task) && modalities.isSubset(of: samples[i].modalities)
        }
    }
}

final class SampleResults: @unchecked Sendable {
    private let lock = NSLock()
    var values: [PreparedSample?]
    private(set) var error: Error?
    init(_ n: Int) { values = Array(repeating: nil, count: n) }
    var failed: Bool { lock.lock(); defer { lock.unlock() }; return error != nil }
    func set(_ i: Int, _ v: PreparedSample) { lock.lock(); values[i] = v; lock.unlock() }
    func fail(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
}

final class SampleCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func take(below n: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard value < n else { return nil }
        value += 1
        return value - 1
    }
}
