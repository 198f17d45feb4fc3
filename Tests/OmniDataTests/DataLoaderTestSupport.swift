// Small generated datasets for the DataLoader suites: PNGs and WAVs written with Omni's own
// encoders into a temporary folder, and a manifest pointing at them.
import Foundation
import Testing
import OmniData
import OmniTensor

/// A temporary folder with `manifest.jsonl` (`lines`) and generated files.
struct LoaderDataset {
    let directory: URL
    let manifest: Manifest

    /// `images`: name → (width, height, channels); `audio`: name → (frames, rate); `raw`: name → bytes.
    init(lines: [String], images: [String: (Int, Int, Int)] = [:], audio: [String: (Int, Int)] = [:],
         raw: [String: [UInt8]] = [:]) throws {
        directory = testScratchRoot.appendingPathComponent("loader-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, (w, h, c)) in images {
            // A deterministic, non-symmetric pattern so crops and flips change the values.
            let seed = name.utf8.reduce(0) { $0 &* 31 &+ Int($1) }
            let pixels = (0..<(w * h * c)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ ($0 / c) &* 11 &+ seed) }
            try Image(width: w, height: h, channels: c, pixels: pixels).write(toFile: directory.appendingPathComponent(name).path)
        }
        for (name, (frames, rate)) in audio {
            let f = Double(name.utf8.count * 110 + 220)
            let samples = (0..<frames).map { Float(0.5 * sin(2 * Double.pi * f * Double($0) / Double(rate))) }
            try AudioFile(samples: samples, channels: 1, sampleRate: rate)
                .write(to: directory.appendingPathComponent(name).path, format: .wav16)
        }
        for (name, bytes) in raw { try Data(bytes).write(to: directory.appendingPathComponent(name)) }
        let url = directory.appendingPathComponent("manifest.jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        manifest = try Manifest.load(contentsOf: url)
        #expect(manifest.issues.isEmpty, "\(manifest.issues)")
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).standardizedFileURL.path }
}

/// 17 samples: 8 text-only, 5 images (3 captioned, sizes differ), 3 audio clips of different
/// lengths, and one with text, image and audio.
func mixedDataset() throws -> LoaderDataset {
    var lines: [String] = []
    let words = ["a", "bb cc", "the quick fox", "x", "omni modal models", "hello world again and again", "z z", "ok"]
    for (i, text) in words.enumerated() { lines.append(#"{"id": "t\#(i)", "text": "\#(text)", "task": "lm"}"#) }
    let sizes = [(12, 10, 3), (16, 16, 3), (9, 14, 3), (20, 11, 3), (10, 10, 1)]
    var images: [String: (Int, Int, Int)] = [:]
    for (i, size) in sizes.enumerated() {
        images["img\(i).png"] = size
        let caption = i < 3 ? #", "text": "picture \#(i)""# : ""
        lines.append(#"{"id": "i\#(i)", "image": "img\#(i).png"\#(caption), "task": "caption", "target": "cap \#(i)"}"#)
    }
    var audio: [String: (Int, Int)] = [:]
    for (i, frames) in [400, 720, 560].enumerated() {
        audio["clip\(i).wav"] = (frames, 8000)
        lines.append(#"{"id": "a\#(i)", "audio": "clip\#(i).wav", "task": "asr", "target": [\#(i), "w"]}"#)
    }
    images["both.png"] = (8, 12, 3)
    audio["both.wav"] = (480, 8000)
    lines.append(#"{"id": "m0", "text": "all three", "image": "both.png", "audio": "both.wav", "task": "qa", "target": 1}"#)
    return try LoaderDataset(lines: lines, images: images, audio: audio)
}

/// Characters' UTF-8 bytes plus 3, so 0–2 stay free for padding.
let byteTokenizer: @Sendable (String) -> [Int] = { $0.utf8.map { Int($0) + 3 } }

/// Decoders with random augmentation everywhere, so any dependence on thread timing would show.
func augmentingDecoders() -> [Modality: any ModalityDecoder] {
    [
        .text: TextSampleDecoder(padID: 1, maxLength: 12, tokenize: byteTokenizer),
        .image: ImageDecoder(pipeline: ImagePipeline(
            imageSteps: [.rgb, .randomResizedCrop(RandomResizedCrop(size: 6, scale: 0.3...1)),
                         .randomHorizontalFlip(RandomHorizontalFlip())],
            tensorSteps: [.normalize(.imageNet), .gaussianNoise(GaussianNoise(std: 0.1))])),
        .audio: AudioDecoder(sampleRate: 16_000, maxDuration: 0.07, randomCrop: true),
    ]
}

/// Everything a batch holds, as comparable values (tensors as raw bytes: bit equality).
struct BatchDigest: Equatable, CustomStringConvertible {
    var ids: [String]
    var epoch: Int
    var indexInEpoch: Int
    var positions: [Int]
    var tensors: [String: [UInt8]]
    var shapes: [String: [Int]]

    init(_ batch: Batch) {
        ids = batch.ids; epoch = batch.epoch; indexInEpoch = batch.indexInEpoch; positions = batch.positions
        tensors = [:]; shapes = [:]
        for (m, b) in batch.modalities {
            for (name, t) in [("values", b.values), ("mask", b.mask), ("present", b.present)] {
                tensors["\(m.rawValue).\(name)"] = t.withUnsafeBytes { Array($0) }
                shapes["\(m.rawValue).\(name)"] = t.shape
            }
        }
    }

    var description: String { "epoch \(epoch) batch \(indexInEpoch) \(ids) \(shapes)" }
}

/// The next `count` batches as digests (fewer if the loader ends).
func drain(_ loader: DataLoader, _ count: Int) throws -> [BatchDigest] {
    var out: [BatchDigest] = []
    while out.count < count, let batch = try loader.next() { out.append(BatchDigest(batch)) }
    return out
}

/// A thread-safe counter decoders can bump.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// Waits (up to `timeout` seconds) until `condition` holds; returns whether it did.
func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(2_000)
    }
    return condition()
}
