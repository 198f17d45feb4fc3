// `omni bench data`: data-layer throughput — image decode + resize + crop to the model's input, and
// Whisper log-mel frames per second. The reference (Pillow, Whisper's torch implementation) runs in
// the same script: scripts/bench-data.sh.
import ArgumentParser
import Dispatch
import Foundation
import OmniData
import OmniModels
import OmniNN
import OmniTensor

struct BenchDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Times image decode + resize (images/s) and Whisper log-mel (frames/s).",
        discussion: """
            Images: each file is decoded, resized so its shorter side is --size (antialiased \
            bilinear, as Pillow) and centre-cropped to --size × --size as a float32 CHW tensor; \
            --threads workers share the list. Mel: the 80-mel spectrogram of --audio (16 kHz mono, \
            resampled if needed) with Whisper's filters. Prints median/min/max per pass and, as the \
            last line, JSON with images_per_s and mel_frames_per_s.
            """)

    @Option(parsing: .upToNextOption, help: "Image files (PNG/JPEG).") var images: [String] = []
    @Option(help: "Audio file for the mel benchmark.") var audio: String?
    @Option(help: "Output side in pixels.") var size = 224
    @Option(help: "Worker threads for images; pool threads for mel.") var threads = 2
    @Option(help: "Passes over the image list (and mel repetitions).") var runs = 7
    @Option(help: "Copies of the image list per pass (to make passes long enough to time).") var copies = 4
    @OptionGroup var global: GlobalOptions

    struct Report: Encodable {
        let images: Int; let size: Int; let threads: Int
        let images_per_s: Double?; let image_pass: TimingSummary?
        let mel_frames: Int?; let mel_frames_per_s: Double?; let mel: TimingSummary?
        let load_average: Double
    }

    func run() throws {
        _ = try global.makeLogger("omni.bench.data")
        guard !images.isEmpty || audio != nil else { throw CLIError("bench data: give --images FILE… and/or --audio FILE") }
        guard size > 0, threads > 0, runs > 0, copies > 0 else { throw CLIError("bench data: --size, --threads, --runs and --copies must be positive") }
        _ = applyThreads(threads)

        var imagesPerSecond: Double? = nil, imageSummary: TimingSummary? = nil
        if !images.isEmpty {
            var bytes: [[UInt8]] = []
            for path in images {
                guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot read the file") }
                do { _ = try Image(data: [UInt8](data), name: path) } catch { throw CLIError(error.description) }
                bytes.append([UInt8](data))
            }
            let work = Array(repeating: bytes, count: copies).flatMap { $0 }
            let side = size
            // Decoding from memory: the file system is not what is measured (Pillow's side reads
            // from memory too).
            let pass = {
                let next = Counter()
                DispatchQueue.concurrentPerform(iterations: threads) { _ in
                    while let i = next.take(below: work.count) {
                        let image = try! Image(data: work[i])
                        _ = image.rgb().to8Bit().resized(shorterSide: side).centerCropped(width: side, height: side).tensor()
                    }
                }
            }
            // Image workers run single-threaded kernels each; the pool is left to them.
            let pool = Threads.count
            Threads.count = 1
            let seconds = measureInterleaved([pass], runs: runs)[0]
            Threads.count = pool
            imageSummary = TimingSummary(seconds: seconds)
            imagesPerSecond = rounded(Double(work.count) / imageSummary!.medianSeconds, 1)
            print("decode + resize \(side) + crop: \(work.count) images per pass, \(threads) threads: median \(imageSummary!.median_ms) ms (\(imagesPerSecond!) images/s), min \(imageSummary!.min_ms), max \(imageSummary!.max_ms)")
        }

        var melFrames: Int? = nil, framesPerSecond: Double? = nil, melSummary: TimingSummary? = nil
        if let audio {
            let samples: [Float]
            do {
                let file = try AudioFile(contentsOf: audio)
                samples = file.whisperSamples()
            } catch { throw CLIError(error.description) }
            let filterPath = Assets.file("whisper/mel_filters.npz").path
            guard let bank = try? NPZ.read(contentsOf: filterPath)["mel_80"] else {
                throw CLIError("\(filterPath): Whisper's mel filters are missing (run scripts/fetch-assets)")
            }
            let frames = samples.count / WhisperMel.hopLength
            let seconds = measureInterleaved([{ _ = WhisperMel.logMelSpectrogram(samples: samples, nMels: 80, filters: bank) }], runs: runs)[0]
            melSummary = TimingSummary(seconds: seconds)
            melFrames = frames
            framesPerSecond = rounded(Double(frames) / melSummary!.medianSeconds, 0)
            print("log-mel 80: \(frames) frames (\(rounded(Double(samples.count) / 16_000, 1)) s of audio), \(threads) threads: median \(melSummary!.median_ms) ms (\(framesPerSecond!) frames/s)")
        }
        try printJSONLine(Report(images: images.count, size: size, threads: threads, images_per_s: imagesPerSecond,
                                 image_pass: imageSummary, mel_frames: melFrames, mel_frames_per_s: framesPerSecond,
                                 mel: melSummary, load_average: loadAverage()))
    }
}

/// A shared index handed out to worker threads.
private final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func take(below limit: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
